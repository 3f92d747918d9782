"""The fake Zalo servers' flood control, which the load and failure test counts on
(benchmarks/load_and_failure.py: 0 × 429 on each channel): a send over the budget is answered
429 and counted, and nothing is counted without a budget."""

from __future__ import annotations

import aiohttp

from tests.fake_zalo import FakeZaloBot, FakeZaloOA


async def _oa_statuses(fake: FakeZaloOA, sends: int) -> list[int]:
    access, _, _ = fake.issue_tokens()
    statuses = []
    async with aiohttp.ClientSession() as session:
        for n in range(sends):
            body = {"recipient": {"user_id": f"u{n % 2}"}, "message": {"text": "xin chào"}}
            async with session.post(
                fake.base_url + "/v3.0/oa/message/cs", json=body, headers={"access_token": access}
            ) as response:
                statuses.append(response.status)
    return statuses


async def _bot_statuses(fake: FakeZaloBot, sends: int, chats: int = 2) -> list[int]:
    statuses = []
    async with aiohttp.ClientSession() as session:
        for n in range(sends):
            url = f"{fake.base_url}/bot{fake.token}/sendMessage"
            async with session.post(url, json={"chat_id": f"c{n % chats}", "text": "chào"}) as r:
                statuses.append(r.status)
    return statuses


async def test_c6_the_fake_zalo_oa_answers_429_over_its_budget_and_counts_it() -> None:
    fake = FakeZaloOA()
    await fake.start()
    try:
        assert await _oa_statuses(fake, 4) == [200] * 4
        assert fake.too_many_requests_sent == 0
        fake.flood_control(3)
        assert await _oa_statuses(fake, 4) == [200, 200, 200, 429]
        assert fake.too_many_requests_sent == 1
        assert len(fake.sent) == 7  # the refused one is not recorded as sent
        fake.flood_control(None)
        assert await _oa_statuses(fake, 2) == [200, 200]
        assert fake.too_many_requests_sent == 1
    finally:
        await fake.stop()


async def test_c6_the_fake_zalo_bot_answers_429_per_chat_over_its_budget_and_counts_it() -> None:
    fake = FakeZaloBot()
    await fake.start()
    try:
        fake.flood_control(None, per_chat_per_second=1)
        # Two chats: the first send to each goes, the second to each is over its budget.
        assert await _bot_statuses(fake, 4) == [200, 200, 429, 429]
        assert fake.too_many_requests_sent == 2
        fake.rate_limit()  # a forced one counts too
        assert await _bot_statuses(fake, 1, chats=1) == [429]
        assert fake.too_many_requests_sent == 3
    finally:
        await fake.stop()
