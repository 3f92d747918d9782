"""P2, P3: issues raised again and again, staff decisions on groups, similar earlier petitions
shown to a resident, and the review and report in chat for office staff and monitors."""

from __future__ import annotations

import re
from datetime import date

from docx import Document

from procedure.permissions import Role
from procedure.use_cases import follow_up, petitions
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from procedure.use_cases.repeated import (
    DIFFERENT,
    SAME,
    decide,
    issue_groups,
    repeated_issues,
    similar_earlier,
)
from procedure.use_cases.review import Period
from storage.unit_of_work import UnitOfWork
from tests.chat_drivers import ConsoleDriver, joined
from tests.procedure_world import World, build_world

FLOODING = [
    "Đường Lê Lợi ngập sâu mỗi khi mưa lớn, nước tràn vào nhà dân, đề nghị nạo vét cống.",
    "Mưa xuống là đoạn Lê Lợi gần chợ bị ngập đến đầu gối, xe chết máy, xin khắc phục cống.",
    "Duong Le Loi ngap nuoc moi khi mua, cong thoat nuoc bi nghet, de nghi xu ly dut diem.",
]
LIGHTS = "Đèn chiếu sáng công cộng trên đường Lê Lợi bị hỏng nhiều bóng, buổi tối rất tối."
NOISE = "Karaoke trong hẻm Phạm Ngũ Lão hát đến khuya gây ồn ào, người già không ngủ được."


def submit(world: World, uow: UnitOfWork, text: str, day: str) -> str:
    world.clock.set(day)
    return petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=world.residents[0],
            kind=PetitionKind.PETITION,
            topic_code="giao_thong",
            text=text,
            full_name="Nguyễn Văn An",
            phone_e164="+84912345678",
            area_org_id=world.ward,
        ),
        world.context,
    ).tracking_code


def test_p2_the_same_problem_in_other_words_and_without_diacritics_is_one_issue(
    uow: UnitOfWork,
) -> None:
    world = build_world(uow)
    codes = [
        submit(world, uow, text, day)
        for text, day in zip(FLOODING, ("2025-03-10", "2025-09-10", "2026-03-10"), strict=True)
    ]
    submit(world, uow, LIGHTS, "2026-03-11")
    submit(world, uow, NOISE, "2026-03-12")
    (group,) = issue_groups(uow, world.ward)
    assert sorted(p.tracking_code for p in group.petitions) == sorted(codes)
    # P2: named by a representative petition's subject, readable, not a list of keywords.
    assert group.title == "Đường Lê Lợi ngập sâu mỗi khi mưa lớn"
    (issue,) = repeated_issues(uow, world.ward, Period.year(2026))
    assert issue.count == 3 and issue.open == 3 and issue.first_raised == date(2025, 3, 10)
    assert issue.title == group.title  # the yearly report and /tonghop show the same title
    assert repeated_issues(uow, world.ward, Period.year(2024)) == []


def test_p2_staff_split_and_join_decisions_win(uow: UnitOfWork) -> None:
    world = build_world(uow)
    first, second, third = (submit(world, uow, text, "2026-03-10") for text in FLOODING)
    lights = submit(world, uow, LIGHTS, "2026-03-10")
    decide(uow, world.office, first, third, DIFFERENT, world.context)
    decide(uow, world.office, second, third, DIFFERENT, world.context)
    (group,) = issue_groups(uow, world.ward)
    assert {p.tracking_code for p in group.petitions} == {first, second}
    decide(uow, world.office, first, lights, SAME, world.context)
    (group,) = issue_groups(uow, world.ward)
    assert {p.tracking_code for p in group.petitions} == {first, second, lights}


def test_p2_an_issue_answered_then_raised_again_is_not_resolved(uow: UnitOfWork) -> None:
    world = build_world(uow)
    first = submit(world, uow, FLOODING[0], "2025-03-10")
    petition = petitions.petition_by_code(uow, first)
    world.clock.set("2025-03-11")
    petition.kind = "question"  # answered directly, the quickest way to an answered petition
    uow.session.add(petition)
    uow.commit()
    follow_up.answer_question(uow, world.office, first, "Phường đã nạo vét.", world.context)
    submit(world, uow, FLOODING[1], "2026-04-01")
    (issue,) = repeated_issues(uow, world.ward, Period.year(2026))
    assert issue.count == 2 and issue.open == 1


def test_p2_a_resident_sees_similar_earlier_petitions_and_their_answers(uow: UnitOfWork) -> None:
    world = build_world(uow)
    code = submit(world, uow, FLOODING[0], "2025-03-10")
    petition = petitions.petition_by_code(uow, code)
    petition.kind = "question"
    uow.session.add(petition)
    uow.commit()
    follow_up.answer_question(uow, world.office, code, "Đã lập dự án chống ngập.", world.context)
    submit(world, uow, NOISE, "2025-03-11")
    found = similar_earlier(uow, world.ward, FLOODING[2])
    assert [p.tracking_code for p, _ in found][:1] == [code]
    assert found[0][1] == "Đã lập dự án chống ngập."


async def test_p2_p10_review_and_report_in_chat_for_office_and_monitor(
    chat_engine, clock, world
) -> None:
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext
    from procedure.use_cases.staff import create_invite

    driver = ConsoleDriver(
        lambda: Conversations(
            chat_engine, ProcedureContext(clock=clock), ChatSettings(verify_code_as="text")
        )
    )
    for user, role in ((301, Role.OFFICE), (302, Role.MONITOR)):
        with UnitOfWork(chat_engine) as uow:
            code = create_invite(
                uow, "ben-thanh", role, ProcedureContext(clock=clock), created_by="t"
            ).code
            uow.commit()
        await driver.command(user, "start", code)
    review = joined(await driver.command(302, "tonghop", "2026"))
    assert "Tổng hợp tình hình ý kiến, kiến nghị" in review and "Phường Bến Thành" in review
    assert not re.search(r"\+84\d{9}|0\d{9}", review)  # monitors never see phone numbers
    report = await driver.command(301, "baocao", "2026")
    assert "Báo cáo kết quả tiếp xúc, đối thoại năm 2026" in joined(report)
    chat = driver.chat
    sent = chat.conversations.handle(chat.incoming_for("/baocao 2026"))
    documents = [m.document for m in sent if m.document]
    assert [name.rsplit(".", 1)[1] for name, _ in documents] == ["docx", "xlsx"]
    import io

    document = Document(io.BytesIO(documents[0][1]))
    heading = "\n".join(cell.text for cell in document.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heading
    assert any(m.image for m in sent)
    assert "Không có lệnh này" in joined(await driver.command(303, "tonghop"))
