"""Properties of the draw itself (pure functions, no database)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from signatories.sampling import draw, population_digest, sample_size_for


@given(ids=st.lists(st.integers(1, 10**9), unique=True, max_size=300),
       seed=st.text(max_size=64), data=st.data())
def test_a_draw_is_reproducible_and_a_subset_without_repeats(ids, seed, data):
    ids = sorted(ids)
    size = data.draw(st.integers(0, len(ids)))
    first = draw(ids, seed=seed, size=size)
    assert first == draw(ids, seed=seed, size=size)
    assert len(first) == len(set(first)) == size
    assert set(first) <= set(ids)


@given(population=st.integers(1, 100_000),
       percentage=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
def test_a_percentage_is_never_rounded_below_what_was_asked(population, percentage):
    n = sample_size_for(population, size=None, percentage=percentage)
    assert 1 <= n <= population
    assert Decimal(n) >= population * percentage / 100
    assert Decimal(n - 1) < population * percentage / 100


def test_the_digest_names_the_population_in_order():
    assert population_digest([1, 2, 3]) == population_digest([1, 2, 3])
    assert population_digest([1, 2, 3]) != population_digest([1, 2, 4])
    assert population_digest([1, 2, 3]) != population_digest([1, 23])
