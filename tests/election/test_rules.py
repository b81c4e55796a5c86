import pytest

from saylau.election.rules import ElectoralRules, Totals, decide
from saylau.errors import ElectionError

RULES = ElectoralRules()


def _t(
    votes: dict[str, int], registered: int = 1000, took_part: int | None = None, aa: str | None = "aa"
) -> Totals:
    valid = sum(votes.values())
    return Totals(
        registered=registered,
        took_part=valid + 10 if took_part is None else took_part,
        valid=valid,
        votes=votes,
        against_all=aa,
    )


def test_clear_winner() -> None:
    d = decide(RULES, _t({"a": 500, "b": 200, "aa": 50}))
    assert d.outcome == "winner" and d.winner == "a"
    assert d.base == 750
    text = " ".join(d.explain("en"))
    assert "elected" in text and "500" in text
    assert "избран" in " ".join(d.explain("ru"))
    assert "сайланды" in " ".join(d.explain("kk"))


def test_exactly_half_is_not_a_majority() -> None:
    d = decide(RULES, _t({"a": 300, "b": 200, "aa": 100}))
    assert d.outcome == "runoff"
    assert d.runoff == ["a", "b"]
    assert d.runoff_within_days == 60


def test_one_vote_over_half_wins() -> None:
    assert decide(RULES, _t({"a": 301, "b": 200, "aa": 100})).winner == "a"


def test_against_all_in_base_prevents_majority() -> None:
    votes = {"a": 260, "b": 200, "aa": 100}
    assert decide(RULES, _t(votes)).outcome == "runoff"
    out = decide(RULES.model_copy(update={"against_all_in_base": False}), _t(votes))
    assert out.outcome == "winner" and out.base == 460


def test_took_part_base() -> None:
    votes = {"a": 301, "b": 200, "aa": 100}
    out = decide(RULES.model_copy(update={"majority_base": "took_part"}), _t(votes, took_part=700))
    assert out.outcome == "runoff" and out.base == 700


def test_runoff_of_top_two_among_many() -> None:
    d = decide(RULES, _t({"a": 300, "b": 250, "c": 240, "aa": 10}))
    assert d.outcome == "runoff" and d.runoff == ["a", "b"]


def test_invalid_by_turnout() -> None:
    d = decide(RULES, _t({"a": 400, "aa": 80}, registered=1000, took_part=500))
    assert d.outcome == "invalid_turnout" and d.winner is None
    assert "invalid" in d.explain("en")[0]
    ok = decide(RULES, _t({"a": 400, "aa": 81}, registered=1000, took_part=501))
    assert ok.outcome == "winner"


def test_no_turnout_threshold() -> None:
    rules = RULES.model_copy(update={"min_turnout": 0.0})
    assert decide(rules, _t({"a": 10, "aa": 1}, registered=1000, took_part=11)).outcome == "winner"


def test_tie_for_second_place_goes_to_lot() -> None:
    d = decide(RULES, _t({"a": 300, "b": 200, "c": 200, "aa": 100}))
    assert d.outcome == "tie_lot"
    assert d.runoff == ["a"] and d.tied == ["b", "c"]
    assert any("Tie at 200" in s for s in d.explain())


def test_tie_with_all_tied_advance() -> None:
    rules = RULES.model_copy(update={"tie_break": "all_tied_advance"})
    d = decide(rules, _t({"a": 300, "b": 200, "c": 200, "aa": 100}))
    assert d.outcome == "runoff" and d.runoff == ["a", "b", "c"] and d.tied == ["b", "c"]


def test_tie_for_first_place_is_a_runoff_of_both() -> None:
    d = decide(RULES, _t({"a": 250, "b": 250, "aa": 100}))
    assert d.outcome == "runoff" and sorted(d.runoff) == ["a", "b"]


def test_against_all_first_never_wins() -> None:
    d = decide(RULES, _t({"a": 200, "b": 150, "aa": 400}))
    assert d.outcome == "runoff" and d.winner is None
    assert "aa" not in d.runoff
    assert d.reasons[2].key == "against_all_first"


def test_against_all_first_can_void_the_election() -> None:
    rules = RULES.model_copy(update={"against_all_wins_effect": "invalid"})
    d = decide(rules, _t({"a": 200, "b": 150, "aa": 400}))
    assert d.outcome == "invalid_against_all"


def test_inconsistent_totals_raise() -> None:
    with pytest.raises(ElectionError, match="sum of option votes"):
        decide(RULES, Totals(registered=100, took_part=60, valid=50, votes={"a": 40}))
    with pytest.raises(ElectionError, match="took_part"):
        decide(RULES, Totals(registered=10, took_part=60, valid=50, votes={"a": 50}))
    with pytest.raises(ElectionError, match="no candidate"):
        decide(RULES, _t({"aa": 50}, registered=80))


def test_kz_2022_published_figures_give_tokayev() -> None:
    from saylau.election.scenario import load_scenario

    sc = load_scenario("kz-2022")
    pub = sc.published
    d = decide(
        sc.rules,
        Totals(
            registered=pub.registered,
            took_part=pub.took_part,
            valid=pub.valid,
            votes=pub.votes,
            against_all=sc.against_all,
        ),
    )
    assert d.outcome == "winner" and d.winner == "tokayev"
    assert d.reasons[-1].params["share"] == pytest.approx(0.8131, abs=5e-5)


def test_runoff_round_is_plurality() -> None:
    d = decide(RULES, _t({"a": 300, "b": 280, "aa": 200}), round_=2)
    assert d.outcome == "winner" and d.winner == "a"
    assert "Runoff" in d.explain("en")[-1]
    tie = decide(RULES, _t({"a": 300, "b": 300, "aa": 20}), round_=2)
    assert tie.outcome == "tie_lot" and tie.tied == ["a", "b"]


def test_explain_uses_display_names() -> None:
    d = decide(RULES, _t({"a": 500, "b": 200, "aa": 50}))
    assert "Candidate A has 500" in d.explain("en", {"a": "Candidate A"})[-1]
    r = decide(RULES, _t({"a": 300, "b": 250, "c": 240, "aa": 10}))
    assert "Ann, Bob" in r.explain("en", {"a": "Ann", "b": "Bob"})[-1]
