"""P10: the yearly report's figures against a hand-computed year (on time and late across Tết,
an extension, an open item), and its three files opened with their own libraries. P2: the review
reads the same figures."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from openpyxl import load_workbook

from handlers.reports import write_report
from handlers.reports.chart import render_chart
from handlers.review_text import review_text
from procedure.permissions import Actor, Role
from procedure.use_cases import follow_up, petitions, sessions
from procedure.use_cases.annual_report import build_annual_report
from procedure.use_cases.follow_up import AssignmentRequest
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from procedure.use_cases.review import Period, figures
from procedure.use_cases.sessions import SessionPlan
from storage.unit_of_work import UnitOfWork
from tests.conftest import at
from tests.procedure_world import World, build_world


def session_on(world: World, uow: UnitOfWork, day: str, announce_on: str) -> int:
    world.clock.set(announce_on)
    session = sessions.plan_session(
        uow,
        world.office,
        SessionPlan(
            org_unit_id=world.ward,
            chair_name="Ông Phạm Chủ Tịch",
            venue="Hội trường",
            starts_at=at(day, "08:00"),
            ends_at=at(day, "11:00"),
            content=f"Đối thoại ngày {day}",
            agency_org_ids=[world.agency],
        ),
        world.context,
    )
    sessions.announce_session(uow, world.office, session.id, world.context)  # type: ignore[arg-type]
    return session.id  # type: ignore[return-value]


def petition(
    world: World,
    uow: UnitOfWork,
    person: int,
    session_id: int | None,
    kind: PetitionKind = PetitionKind.PETITION,
    topic: str = "giao_thong",
) -> str:
    return petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=person,
            kind=kind,
            topic_code=topic,
            text="Đường Lê Lợi ngập nước mỗi khi mưa lớn, đề nghị nạo vét cống.",
            full_name="Nguyễn Văn An",
            phone_e164="+84912345678",
            area_org_id=world.ward,
            session_id=session_id,
            street="Lê Lợi",
        ),
        world.context,
    ).tracking_code


@pytest.fixture
def year(uow: UnitOfWork) -> World:
    """2025: one session, one petition answered on time. 2026, by hand:
    - session A Thu 05/02 (before Tết): conclusion due Thu 26/02 (Tết 16–20/02 not counted),
      notified 26/02 → on time. P1 due Thu 26/03, answered 20/03 → on time. P2 extended to
      Fri 10/04, answered 09/04 → on time, one extension.
    - session B Thu 12/03: conclusion due Thu 26/03, notified Mon 30/03 → 2 working days late.
      P3 due Tue 28/04 (27/04 Giỗ Tổ not counted), answered Tue 05/05 → 3 working days late
      (30/4 and 1/5 not counted). P4 never answered → open and overdue on 28/11/2026.
    - Q1, a question, answered directly.
    """
    world = build_world(uow)
    a, b, c = world.residents
    old = session_on(world, uow, "2025-06-19", "2025-06-02")
    old_code = petition(world, uow, a, old)
    world.clock.set("2025-06-19", "11:30")
    sessions.hold_session(uow, world.office, old, world.context)
    world.clock.set("2025-06-24")
    follow_up.notify_conclusion(
        uow,
        world.head,
        old,
        "Kết luận.",
        [
            AssignmentRequest(
                petitions.petition_by_code(uow, old_code).id,  # type: ignore[arg-type]
                world.agency,
            )
        ],
        world.context,
    )
    world.clock.set("2025-07-01")
    follow_up.post_result(uow, world.agency_officer, old_code, "Đã xử lý.", world.context)

    session_a = session_on(world, uow, "2026-02-05", "2026-01-20")
    p1, p2 = petition(world, uow, a, session_a), petition(world, uow, b, session_a)
    world.clock.set("2026-02-05", "11:30")
    sessions.hold_session(uow, world.office, session_a, world.context)
    world.clock.set("2026-02-26")
    follow_up.notify_conclusion(
        uow,
        world.head,
        session_a,
        "Kết luận buổi A.",
        [
            AssignmentRequest(petitions.petition_by_code(uow, code).id, world.agency)  # type: ignore[arg-type]
            for code in (p1, p2)
        ],
        world.context,
    )
    session_b = session_on(world, uow, "2026-03-12", "2026-02-27")
    p3 = petition(world, uow, c, session_b)
    p4 = petition(world, uow, a, session_b, topic="moi_truong")
    q1 = petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=b,
            kind=PetitionKind.QUESTION,
            topic_code="dan_van",
            text="Xin hỏi lịch tiếp công dân của phường?",
            full_name="Trần Thị Bình",
            phone_e164="+84912345679",
            area_org_id=world.ward,
        ),
        world.context,
    ).tracking_code
    world.clock.set("2026-03-12", "11:30")
    sessions.hold_session(uow, world.office, session_b, world.context)
    world.clock.set("2026-03-20")
    follow_up.post_result(uow, world.agency_officer, p1, "Đã nạo vét.", world.context)
    follow_up.answer_question(uow, world.office, q1, "Sáng thứ Năm hằng tuần.", world.context)
    world.clock.set("2026-03-25")
    follow_up.extend_deadline(
        uow, world.agency_officer, p2, date(2026, 4, 10), "Cần khảo sát thêm.", world.context
    )
    world.clock.set("2026-03-30")
    follow_up.notify_conclusion(
        uow,
        world.head,
        session_b,
        "Kết luận buổi B.",
        [
            AssignmentRequest(petitions.petition_by_code(uow, code).id, world.other_agency)  # type: ignore[arg-type]
            for code in (p3, p4)
        ],
        world.context,
    )
    world.clock.set("2026-04-09")
    follow_up.post_result(uow, world.agency_officer, p2, "Đã xử lý xong.", world.context)
    world.clock.set("2026-05-05")
    follow_up.post_result(uow, world.other_agency_officer, p3, "Đã xử lý.", world.context)
    world.clock.set("2026-11-28")
    return world


def test_p10_figures_of_a_hand_computed_year(uow: UnitOfWork, year: World) -> None:
    numbers = figures(uow, Actor.system(), year.ward, Period.year(2026), year.context)
    assert numbers.sessions_held == 2 and numbers.petitions == 5
    assert [line.conclusion for line in numbers.sessions] == ["on_time", "late"]
    assert numbers.sessions[1].conclusion_late_days == 2
    assert (numbers.conclusions_on_time, numbers.conclusions_late, numbers.conclusions_missing) == (
        1,
        1,
        0,
    )
    assert (
        numbers.results_on_time,
        numbers.results_late,
        numbers.results_open,
        numbers.results_overdue,
        numbers.extended,
    ) == (2, 1, 1, 1, 1)
    assert numbers.questions_answered == 1
    assert numbers.by_topic == {
        "Giao thông, hạ tầng": 3,
        "Môi trường, vệ sinh": 1,
        "Công tác dân vận": 1,
    }
    agency = numbers.agencies["Phòng Kinh tế, Hạ tầng và Đô thị"]
    assert (agency.assigned, agency.on_time, agency.late, agency.open, agency.extended) == (
        2,
        2,
        0,
        0,
        1,
    )
    other = numbers.agencies["Phòng Văn hóa – Xã hội"]
    assert (other.assigned, other.on_time, other.late, other.open, other.overdue) == (2, 0, 1, 1, 1)
    previous = figures(uow, Actor.system(), year.ward, Period.year(2025), year.context)
    assert (previous.sessions_held, previous.petitions, previous.results_on_time) == (1, 1, 1)


def test_p10_monitors_may_read_the_figures_and_residents_may_not(
    uow: UnitOfWork, year: World
) -> None:
    from procedure.errors import NotAllowed

    assert figures(uow, year.monitor, year.ward, Period.year(2026), year.context).petitions == 5
    with pytest.raises(NotAllowed):
        figures(uow, Actor.resident(year.residents[0]), year.ward, Period.year(2026), year.context)


def test_p10_the_three_files_open_and_hold_the_tables(
    uow: UnitOfWork, year: World, tmp_path
) -> None:
    report = build_annual_report(uow, Actor.system(), year.ward, 2026, year.context)
    files = write_report(report, tmp_path)
    document = Document(str(files.document))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for table in document.tables for row in table.rows for c in row.cells)
    # Decree 30/2020/NĐ-CP: the national title and motto, the issuing body, number, place and
    # date, the recipients (party committee, superior government, Fatherland Front), signature.
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG BẾN THÀNH",
        "/BC-UBND",
        "Bến Thành, ngày 28 tháng 11 năm 2026",
        "Nơi nhận:",
        "Ban Thường vụ Đảng ủy Phường Bến Thành",
        "Ủy ban nhân dân Thành phố Hồ Chí Minh",
        "Mặt trận Tổ quốc",
        "CHỦ TỊCH",
    ):
        assert expected in text + cells, expected
    assert "BÁO CÁO" in text and "năm 2026" in text
    assert "Thông báo kết luận trễ hạn" in cells and "Trễ 2 ngày làm việc" in cells
    assert "Phòng Văn hóa – Xã hội" in cells
    book = load_workbook(files.spreadsheet)
    assert book.sheetnames == [
        "Tổng hợp",
        "Buổi đối thoại",
        "Theo lĩnh vực",
        "Theo địa bàn",  # issue 13: by place
        "Theo cơ quan",
        "Vấn đề lặp lại",
        "So sánh năm trước",
        # Issue 13: the answers to "is it resolved?".
        "Đánh giá theo cơ quan",
        "Đánh giá theo lĩnh vực",
    ]
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Buổi tiếp xúc, đối thoại"] == 2 and summary["Quá hạn chưa trả lời"] == 1
    comparison = list(book["So sánh năm trước"].iter_rows(min_row=2, values_only=True))
    assert comparison[0] == ("Buổi tiếp xúc, đối thoại", 1, 2, "+1")
    assert files.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_chart(report)[:8] == b"\x89PNG\r\n\x1a\n"
    assert io.BytesIO(files.document.read_bytes()).read(2) == b"PK"
    # Decree 30/2020: the place is the unit's proper name; pages numbered from page 2.
    assert "Phường Bến Thành, ngày" not in cells
    section = document.sections[0]
    assert section.different_first_page_header_footer
    assert "PAGE" in section.header._element.xml and "PAGE" not in (
        section.first_page_header._element.xml
    )


def test_p10_the_place_in_the_date_line_keeps_a_numbered_units_level() -> None:
    from handlers.reports.document import place_name

    assert place_name("Phường Bến Thành") == "Bến Thành"
    assert place_name("Xã Bình Chánh") == "Bình Chánh"
    assert place_name("Phường 5") == "Phường 5"
    assert place_name("Thành phố Hồ Chí Minh") == "Thành phố Hồ Chí Minh"


def test_p10_the_signer_is_chosen_and_defaults_to_the_current_head(
    uow: UnitOfWork, year: World
) -> None:
    from procedure.use_cases.administration import grant_role
    from storage.tables import Person

    default = build_annual_report(uow, Actor.system(), year.ward, 2026, year.context)
    newer = Person(full_name="Võ Thị Mới")
    uow.session.add(newer)
    uow.commit()
    assert newer.id is not None
    year.clock.now += timedelta(days=1)
    grant_role(uow, Actor.system(), newer.id, "ben-thanh", Role.HEAD)
    current = build_annual_report(uow, Actor.system(), year.ward, 2026, year.context)
    assert current.head == "Võ Thị Mới" and default.head != current.head
    chosen = build_annual_report(
        uow, Actor.system(), year.ward, 2026, year.context, signer="  Phạm  Văn Ký "
    )
    assert chosen.head == "Phạm Văn Ký"


def test_p2_the_review_shows_the_reports_figures(uow: UnitOfWork, year: World) -> None:
    numbers = figures(uow, year.office, year.ward, Period.year(2026), year.context)
    text = review_text(numbers, [])
    assert "2 buổi đối thoại" in text and "5 ý kiến" in text
    assert "quá hạn: 1" in text and "Giao thông, hạ tầng: 3" in text


def test_p10_every_bar_of_the_chart_carries_its_value(uow: UnitOfWork, year: World) -> None:
    import matplotlib.pyplot as plt

    from handlers.reports.chart import chart_figure

    report = build_annual_report(uow, Actor.system(), year.ward, 2026, year.context)
    figure = chart_figure(report)
    (axes,) = figure.axes
    bars = [patch for container in axes.containers for patch in container]
    labels = [text.get_text() for text in axes.texts]
    assert len(labels) == len(bars) > 0
    widths = sorted(str(int(bar.get_width())) for bar in bars)
    assert sorted(labels) == widths
    plt.close(figure)


def test_p10_the_legend_covers_no_bar_and_stays_in_the_picture(
    uow: UnitOfWork, year: World
) -> None:
    import matplotlib.pyplot as plt

    from handlers.reports.chart import chart_figure

    report = build_annual_report(uow, Actor.system(), year.ward, 2026, year.context)
    figure = chart_figure(report)
    (axes,) = figure.axes
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    legend = axes.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    bars = [patch for container in axes.containers for patch in container]
    assert not any(box.overlaps(bar.get_window_extent(renderer)) for bar in bars)
    whole = figure.bbox
    assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1
    plt.close(figure)
