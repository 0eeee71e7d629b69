"""Tables that fit the terminal: columns are dropped in a fixed order, then cells wrap.

Every wide listing of the CLI (``runs list``, the code-graph symbol tables) is printed
through :func:`fitted`. The rule is the same for all, so a narrow terminal gives a
predictable result rather than cells cut at an arbitrary character:

1. a :class:`Column` says how narrow it may get (``min_width``; a ``no_wrap`` column —
   ids people copy — never gets narrower than its longest cell) and whether and when it
   may be dropped (``drop``: 1 is dropped first; ``None`` is always shown);
2. while the columns' narrowest widths plus rich's borders (3 characters a column, plus
   one) exceed the terminal width, the droppable column with the lowest ``drop`` goes;
3. what is left gets the terminal's width and rich wraps the wrappable cells (``fold``:
   paths break at any character rather than being cut);
4. dropped columns are named in the table's caption, with how to see them
   (a wider terminal, or ``--format json``, which always has everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

BORDER = 3  # rich's default box: "│ " before a cell and " " after it; one more "│" closes the row


@dataclass(frozen=True)
class Column:
    """One column of a fitted table (module docstring)."""

    header: str
    min_width: int = 6
    drop: int | None = None
    no_wrap: bool = False


def _narrowest(column: Column, cells: list[str]) -> int:
    """The fewest characters ``column`` can be drawn in (its longest cell when it does not wrap)."""
    longest_word = max((len(word) for word in column.header.split()), default=0)
    if column.no_wrap:
        return max(longest_word, *(len(c) for c in cells)) if cells else longest_word
    return max(longest_word, min(column.min_width, max((len(c) for c in cells), default=0)))


def fitted(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> "Table":
    """A rich table of ``rows`` (plain text, may carry rich markup) that fits ``width`` characters."""
    from rich.table import Table  # imported on use: `caramba --help` stays fast

    plain = [[_strip(cell) for cell in row] for row in rows]
    shown = list(range(len(columns)))
    need = {i: _narrowest(c, [row[i] for row in plain]) for i, c in enumerate(columns)}
    for _, i in sorted((c.drop, i) for i, c in enumerate(columns) if c.drop is not None):
        if 1 + sum(need[j] + BORDER for j in shown) <= width:
            break
        shown.remove(i)
    dropped = [columns[i].header for i in range(len(columns)) if i not in shown]
    caption = (f"not shown at {width} columns: {', '.join(dropped)} (widen the terminal, or use --format json)"
               if dropped else None)
    table = Table(caption=caption, caption_justify="left")
    for i in shown:
        column = columns[i]
        table.add_column(column.header, no_wrap=column.no_wrap, min_width=need[i],
                         overflow="ellipsis" if column.no_wrap else "fold")
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    return table


def _strip(cell: str) -> str:
    """``cell`` without rich markup (its printed characters)."""
    from rich.text import Text

    return Text.from_markup(cell).plain
