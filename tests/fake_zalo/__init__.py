"""Fake Zalo servers on 127.0.0.1 for the Zalo channels: the Official Account Open API
(tests/fake_zalo/oa.py) and the Zalo Bot platform (tests/fake_zalo/bot_api.py)."""

from tests.fake_zalo.bot_api import FakeZaloBot
from tests.fake_zalo.oa import FakeZaloOA

__all__ = ["FakeZaloBot", "FakeZaloOA"]
