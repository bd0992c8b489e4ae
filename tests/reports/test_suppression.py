"""Small-count suppression: counts under 5 hidden, and no hidden count derivable from the published
ones, checked by brute force: every integer filling of the hidden cells that agrees with everything
published (and with what the markers say: "<5" is 0…4, "\u2013" is at least 5) is enumerated."""

from __future__ import annotations

import random

import pytest

from reports.suppression import PRIMARY, SECONDARY, lines_of, suppress


def feasible_values(result) -> dict[tuple[int, int], set[int]]:
    grid = result.values
    n_rows, n_cols = len(grid), len(grid[0])
    lines = lines_of(n_rows, n_cols)
    hidden = sorted(result.primary | result.secondary)
    # a hidden cell is at most the grand total, if that is published; otherwise a bound far above it
    hidden_total = (n_rows - 1, n_cols - 1) in result.primary | result.secondary
    cap = grid[-1][-1] * 2 + 10 if hidden_total else grid[-1][-1]
    domains = {cell: range(5) if cell in result.primary else range(5, max(cap, 5) + 1) for cell in hidden}
    value = {
        (i, j): grid[i][j]
        for i in range(n_rows)
        for j in range(n_cols)
        if (i, j) not in result.primary | result.secondary
    }
    seen: dict = {cell: set() for cell in hidden}
    position = {cell: k for k, cell in enumerate(hidden)}
    # a line can be checked once its last hidden cell (in enumeration order) is assigned
    check_at: dict[int, list] = {}
    for parts, total in lines:
        last = max((position[c] for c in [*parts, total] if c in position), default=-1)
        check_at.setdefault(last, []).append((parts, total))

    def ok(lines_to_check):
        return all(sum(value[p] for p in parts) == value[total] for parts, total in lines_to_check)

    if not ok(check_at.get(-1, [])):
        raise AssertionError("published figures disagree")

    def walk(k):
        if k == len(hidden):
            for cell in hidden:
                seen[cell].add(value[cell])
            return
        cell = hidden[k]
        for v in domains[cell]:
            value[cell] = v
            if ok(check_at.get(k, [])):
                walk(k + 1)
        del value[cell]

    walk(0)
    return seen


def assert_safe(cells):
    result = suppress(cells)
    grid = result.values
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v < 5:
                assert result.shown[i][j] == PRIMARY
            elif (i, j) not in result.secondary:
                assert result.shown[i][j] == v
            else:
                assert result.shown[i][j] == SECONDARY
    for cell, values in feasible_values(result).items():
        assert grid[cell[0]][cell[1]] in values
        assert len(values) >= 2, (cells, cell, values, result.shown)
    return result


def test_nothing_to_hide():
    result = assert_safe([[10, 20], [30, 40]])
    assert result.shown == [[10, 20, 30], [30, 40, 70], [40, 60, 100]]


def test_a_small_count_takes_a_partner_in_its_row_and_column():
    result = assert_safe([[3, 20, 30], [12, 40, 50], [15, 25, 35]])
    assert result.shown[0][0] == PRIMARY
    # not derivable from its row total or its column total
    assert sum(1 for cell in result.secondary if cell[0] == 0) >= 1
    assert sum(1 for cell in result.secondary if cell[1] == 0) >= 1


def test_one_column_table_hides_two_rows():
    result = assert_safe([[3], [12], [40]])
    assert [row[0] for row in result.shown] == [PRIMARY, SECONDARY, 40, 55]


def test_two_small_counts_pinned_by_their_bounds_take_a_third():
    # 4 + 4 + 30 = 38: two "<5" cells summing to 8 would both be 4
    result = assert_safe([[4], [4], [30]])
    assert result.shown[2][0] == SECONDARY


def test_a_small_total_is_hidden_too():
    assert_safe([[1, 2], [0, 1]])


@pytest.mark.parametrize("seed", range(60))
def test_random_tables_leave_nothing_derivable(seed):
    rng = random.Random(seed)
    n_rows, n_cols = rng.choice([(2, 2), (3, 1), (2, 3), (3, 2), (4, 1)])
    cells = [[rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12]) for _ in range(n_cols)] for _ in range(n_rows)]
    assert_safe(cells)
