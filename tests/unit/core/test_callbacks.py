"""The callback codec: what a button carries, stamped with its keyboard's generation, and what a tap parses to."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handler.core.callbacks import callback_data, parse_callback
from handler.core.inputs import ForgedTap, Tap

ACTIONS = st.tuples(
    st.sampled_from("mposjr"),
    st.from_regex(r"[a-z0-9_.-]{1,40}", fullmatch=True),
    st.one_of(st.just(""), st.from_regex(r":[a-z0-9_.-]{1,20}", fullmatch=True)),
)


@given(action=ACTIONS, generation=st.integers(0, 999_999_999))
def test_every_action_stamped_with_any_generation_parses_back_to_the_same_tap(
    action: tuple[str, str, str], generation: int
) -> None:
    prefix, arg, sub = action
    data = callback_data(f"{prefix}:{arg}{sub}", generation)
    assert parse_callback(data) == Tap(prefix, generation, arg + sub)


def test_malformed_callback_data_is_forged() -> None:
    for data in (None, "", "m", "m:1", "m:-1:nst", "M:1:nst", "m:1234567890:nst", "m:1:" + "a" * 80, "m:1:a b"):
        assert isinstance(parse_callback(data), ForgedTap), data


@given(data=st.text(max_size=80))
def test_any_text_parses_to_a_tap_of_our_shape_or_to_a_forgery(data: str) -> None:
    parsed = parse_callback(data)
    # (a generation written with leading zeros is the same generation)
    assert (
        isinstance(parsed, ForgedTap)
        or parse_callback(callback_data(f"{parsed.prefix}:{parsed.arg}", parsed.generation)) == parsed
    )
