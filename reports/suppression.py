"""Small-count suppression for published tables (the funder report).

A table is a grid of counts with its margins: a total column (each row's total) and a total row
(each column's total), the corner being the grand total. A 1-column table has only a total row.
Every row and every column, with its total, is a *line*: total = sum of its parts.

1. **Primary**: every cell under 5 (zero included; totals included) is shown as "<5".
2. **Complementary** (shown as "\u2013"), repeated until nothing changes:
   a. a line with exactly one suppressed cell would give it away (total minus the other parts):
      suppress one more cell of that line, the smallest part still shown (or else its total);
   b. the reader knows more than the equations: a "<5" cell lies in 0…4 and a "\u2013" cell is at least 5
      (it was not under 5). Interval propagation over all lines (bounds consistency) finds a cell
      pinned to one value by those bounds (two "<5" cells summing to 8 are both 4): suppress one more
      cell of a line through it;
   c. exact linear algebra over all lines at once (Gaussian elimination in fractions): a suppressed
      cell that is a combination of published values, through several lines, is determined; suppress
      one more cell of a line through it.
Each step only adds suppressions, so it ends; at the end no suppressed cell can be worked out from the
published ones, by one line or several, with or without the bounds (checked by brute force in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

THRESHOLD = 5
PRIMARY = "<5"
SECONDARY = "\u2013"  # an en dash
UNBOUNDED = 10**12


@dataclass
class Suppressed:
    """The table with its margins and what is shown of each cell."""

    values: list[list[int]]  # (rows + 1) x (columns + 1, or 1 for a one-column table)
    shown: list[list[str | int]]
    primary: set[tuple[int, int]]
    secondary: set[tuple[int, int]]


def with_margins(cells: list[list[int]]) -> list[list[int]]:
    """Rows with their totals (unless there is one column), and the total row."""
    one_column = len(cells[0]) == 1
    rows = [list(row) if one_column else [*row, sum(row)] for row in cells]
    return [*rows, [sum(col) for col in zip(*rows, strict=True)]]


def lines_of(n_rows: int, n_cols: int) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """(parts, total) for every line of a grid with margins: n_rows x n_cols including the margins."""
    lines = []
    if n_cols > 1:  # the last column holds the row totals
        lines += [([(i, j) for j in range(n_cols - 1)], (i, n_cols - 1)) for i in range(n_rows)]
    lines += [([(i, j) for i in range(n_rows - 1)], (n_rows - 1, j)) for j in range(n_cols)]
    return lines


def suppress(cells: list[list[int]]) -> Suppressed:
    """`cells` without margins; returns the grid with margins and what may be published of it."""
    grid = with_margins(cells)
    n_rows, n_cols = len(grid), len(grid[0])
    lines = lines_of(n_rows, n_cols)
    primary = {(i, j) for i in range(n_rows) for j in range(n_cols) if grid[i][j] < THRESHOLD}
    secondary: set[tuple[int, int]] = set()

    def hidden() -> set[tuple[int, int]]:
        return primary | secondary

    def add_one(line) -> bool:
        parts, total = line
        candidates = [cell for cell in parts if cell not in hidden()]
        if candidates:
            secondary.add(min(candidates, key=lambda c: (grid[c[0]][c[1]], c)))
            return True
        if total not in hidden():
            secondary.add(total)
            return True
        return False

    def through(cell):
        return [line for line in lines if cell in line[0] or cell == line[1]]

    changed = True
    while changed:
        changed = False
        for line in lines:  # (a) one suppressed cell in a line
            members = [*line[0], line[1]]
            if sum(1 for cell in members if cell in hidden()) == 1:
                changed |= add_one(line)
        if changed:
            continue
        for cell in sorted(determined(grid, lines, primary, secondary)):  # (b) and (c)
            if any(add_one(line) for line in through(cell)):
                changed = True
                break
    shown = [
        [PRIMARY if (i, j) in primary else SECONDARY if (i, j) in secondary else grid[i][j] for j in range(n_cols)]
        for i in range(n_rows)
    ]
    return Suppressed(grid, shown, primary, secondary)


def _equations(grid, lines, hidden):
    """Each line as ({hidden cell: coefficient}, constant): sum(parts) - total = 0."""
    equations = []
    for parts, total in lines:
        coefficients, constant = {}, 0
        for cell, sign in [*((p, 1) for p in parts), (total, -1)]:
            if cell in hidden:
                coefficients[cell] = coefficients.get(cell, 0) + sign
            else:
                constant -= sign * grid[cell[0]][cell[1]]
        if coefficients:
            equations.append((coefficients, constant))
    return equations


def determined(grid, lines, primary, secondary) -> set[tuple[int, int]]:
    """Suppressed cells a reader could work out exactly."""
    hidden = primary | secondary
    equations = _equations(grid, lines, hidden)
    return _pinned_by_bounds(equations, primary, secondary) | _pinned_by_equations(equations, sorted(hidden))


def _pinned_by_bounds(equations, primary, secondary) -> set:
    low = dict.fromkeys(primary, 0) | dict.fromkeys(secondary, THRESHOLD)
    high = dict.fromkeys(primary, THRESHOLD - 1) | dict.fromkeys(secondary, UNBOUNDED)
    for _round in range(100):  # bounds consistency; converges in a few rounds on report-sized tables
        changed = False
        for coefficients, constant in equations:
            for cell, coef in coefficients.items():
                # coef * x = constant - sum(others): bounds of the right-hand side from the others' bounds
                rest_low = rest_high = 0
                for other, c in coefficients.items():
                    if other == cell:
                        continue
                    rest_low += c * (low[other] if c > 0 else high[other])
                    rest_high += c * (high[other] if c > 0 else low[other])
                lo, hi = constant - rest_high, constant - rest_low
                if coef < 0:
                    lo, hi = -hi, -lo
                if lo > low[cell]:
                    low[cell], changed = lo, True
                if hi < high[cell]:
                    high[cell], changed = hi, True
        if not changed:
            break
    return {cell for cell in low if low[cell] >= high[cell]}


def _pinned_by_equations(equations, variables) -> set:
    """Cells whose value follows from the equations alone: a pivot with no free variable in its row."""
    index = {cell: k for k, cell in enumerate(variables)}
    rows = []
    for coefficients, _constant in equations:
        row = [Fraction(0)] * len(variables)
        for cell, coef in coefficients.items():
            row[index[cell]] = Fraction(coef)
        rows.append(row)
    pivots, r = [], 0
    for col in range(len(variables)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [value / rows[r][col] for value in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(col)
        r += 1
    free = set(range(len(variables))) - set(pivots)
    return {
        variables[col] for row_number, col in enumerate(pivots) if all(rows[row_number][other] == 0 for other in free)
    }
