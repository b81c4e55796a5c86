from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import numpy as np
import pytest

from saylau.errors import EmbargoError, PollError
from saylau.polls.design import SampleDesign, SamplingFrame
from saylau.polls.desk import ExitPollDesk, Interview
from saylau.polls.embargo import Embargo

EAST = timezone(timedelta(hours=6), "UTC+6")  # Astana and most of Kazakhstan in 2022
WEST = timezone(timedelta(hours=5), "UTC+5")  # Aktobe, Atyrau, Mangystau, West Kazakhstan, Kyzylorda
DAY = date(2022, 11, 20)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def kz_embargo(clock: Clock) -> Embargo:
    return Embargo.local_close(DAY, time(20, 0), {"east": EAST, "west": WEST}, clock)


def test_last_close_is_the_western_zone() -> None:
    e = kz_embargo(Clock(datetime(2022, 11, 20, 12, tzinfo=UTC)))
    # 20:00 at UTC+5 is 15:00 UTC, an hour after 20:00 at UTC+6
    assert e.last_close == datetime(2022, 11, 20, 15, 0, tzinfo=UTC)
    assert e.last_zone == "west"


@pytest.mark.parametrize(
    ("now", "lifted"),
    [
        (datetime(2022, 11, 20, 20, 0, tzinfo=EAST), False),  # east closed, west still voting
        (datetime(2022, 11, 20, 20, 59, 59, tzinfo=EAST), False),
        (datetime(2022, 11, 20, 19, 59, tzinfo=WEST), False),
        (datetime(2022, 11, 20, 20, 0, tzinfo=WEST), True),  # last station closes now
        (datetime(2022, 11, 20, 21, 0, tzinfo=EAST), True),  # the same instant, seen from Astana
        (datetime(2022, 11, 20, 15, 0, 1, tzinfo=UTC), True),
    ],
)
def test_embargo_in_both_time_zones(now: datetime, lifted: bool) -> None:
    e = kz_embargo(Clock(now))
    assert e.lifted() is lifted
    if lifted:
        e.check("estimates")
    else:
        with pytest.raises(EmbargoError, match="west"):
            e.check("estimates")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        Embargo({"x": datetime(2022, 11, 20, 20)})
    e = Embargo({"x": datetime(2022, 11, 20, 20, tzinfo=EAST)}, clock=lambda: datetime(2022, 11, 20))
    with pytest.raises(ValueError):
        e.lifted()


def make_desk(clock: Clock) -> ExitPollDesk:
    desk = ExitPollDesk(["X", "Y"], kz_embargo(clock))
    desk.register("p1", "Pollster One")
    frame = SamplingFrame.build(["a", "b", "c", "d"], ["e", "e", "w", "w"], [100, 100, 100, 100])
    desk.set_design("p1", SampleDesign(frame, np.arange(4), frame.regions, np.ones(4)))
    return desk


def test_desk_holds_everything_until_close_then_releases() -> None:
    clock = Clock(datetime(2022, 11, 20, 14, 0, tzinfo=EAST))
    desk = make_desk(clock)
    desk.upload("p1", [Interview("a", "X"), Interview("b", "Y"), Interview("c", None), Interview("c", "X")])
    assert desk.upload("p1", [Interview("d", "Y")]) == 5  # uploads are accepted during the day
    voters = {"a": 50, "b": 50, "c": 50, "d": 50}
    for call in (lambda: desk.raw("p1"), lambda: desk.estimate("p1", voters), lambda: desk.data("p1")):
        with pytest.raises(EmbargoError):
            call()
    clock.now = datetime(2022, 11, 20, 20, 30, tzinfo=WEST)
    assert len(desk.raw("p1")) == 5
    est = desk.estimate("p1", voters)
    assert est.respondents == 4 and est.refusals == 1
    assert {c.option for c in desk.compare("p1", voters, {"X": 0.5, "Y": 0.5})} == {"X", "Y"}


def test_desk_rejects_bad_uploads() -> None:
    desk = make_desk(Clock(datetime(2022, 11, 20, 9, tzinfo=EAST)))
    with pytest.raises(PollError, match="not in its sample"):
        desk.upload("p1", [Interview("zz", "X")])
    with pytest.raises(PollError, match="unknown option"):
        desk.upload("p1", [Interview("a", "Z")])
    with pytest.raises(PollError, match="not registered"):
        desk.upload("nobody", [])
    with pytest.raises(PollError, match="already registered"):
        desk.register("p1", "again")
    desk.upload("p1", [Interview("a", "X")])
    with pytest.raises(PollError, match="fixed"):
        desk.set_design("p1", desk.pollster("p1").design)  # type: ignore[arg-type]
