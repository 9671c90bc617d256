"""Three-way merge of a regenerated project with the user's edits (``scaffold update``).

For each file: the base is what scaffold generated last time (``.scaffold/base/``),
``yours`` is the file as it is now, ``new`` is what scaffold generates now. Whoever
changed a file wins; where both changed the same lines, the file gets standard conflict
markers. The line merge is Breezy's ``merge3``, not a diff of our own.
"""

from __future__ import annotations

from dataclasses import dataclass

import merge3

# What happens to one file.
UNCHANGED = "unchanged"  # nobody changed it, or only you did: left as it is
UPDATED = "updated"  # only scaffold's output changed: the new version
MERGED = "merged"  # both changed it, different lines: merged cleanly
CONFLICT = "conflict"  # both changed the same lines: conflict markers to resolve
ADDED = "added"  # new in this version
KEPT_DELETED = "kept deleted"  # you deleted it: not brought back
KEPT_BINARY = "kept yours"  # both changed a file that is not text: yours is kept
NOT_A_FILE = "kept (not a file)"  # yours is a link, a directory...: never written through
NOT_OURS = "kept (not scaffold's)"  # a file scaffold never wrote has the new file's name
NOT_GENERATED = "no longer generated"  # scaffold stopped writing it: left in place

Content = str | bytes | None


class NotRegular:
    """What is on disk is not a regular file (a symbolic link, a directory, a FIFO)."""


NOT_REGULAR = NotRegular()


@dataclass(frozen=True)
class FileMerge:
    relative: str
    outcome: str
    content: Content  # what the file becomes (None: not written)

    @property
    def writes(self) -> bool:
        return self.content is not None and self.outcome not in (UNCHANGED, KEPT_DELETED)


def merge_file(
    relative: str,
    base: Content,
    yours: Content | NotRegular,
    new: Content,
    ours: bool = True,
) -> FileMerge:
    """The outcome for one file (``None`` where a version does not exist; ``ours``:
    the record lists it as a file scaffold wrote)."""
    if isinstance(yours, NotRegular):
        return FileMerge(relative, NOT_A_FILE if new is not None else UNCHANGED, None)
    if base is None and yours is not None and not ours and yours != new:
        return FileMerge(relative, NOT_OURS if new is not None else UNCHANGED, None)
    if new is None:
        return FileMerge(relative, UNCHANGED if base is None else NOT_GENERATED, None)
    if yours is None:
        if base is None:
            return FileMerge(relative, ADDED, new)
        return FileMerge(relative, UNCHANGED if new == base else KEPT_DELETED, None)
    if yours == new or new == base:
        return FileMerge(relative, UNCHANGED, None)
    if yours == base:
        return FileMerge(relative, UPDATED, new)
    if not all(isinstance(v, str) for v in (yours, new)) or not isinstance(base, str | None):
        return FileMerge(relative, KEPT_BINARY, None)
    assert isinstance(yours, str) and isinstance(new, str)
    merged, conflicts = merge_text(base or "", yours, new)
    return FileMerge(relative, CONFLICT if conflicts else MERGED, merged)


def merge_text(base: str, yours: str, new: str) -> tuple[str, bool]:
    """The merged text, and whether it holds conflict markers (``<<<<<<< yours``,
    ``=======``, ``>>>>>>> scaffold``)."""
    merger = merge3.Merge3(_lines(base), _lines(yours), _lines(new))
    conflicts = any(region[0] == "conflict" for region in merger.merge_regions())
    merged = "".join(merger.merge_lines(name_a="yours", name_b="scaffold"))
    # The final newline merges like a line of its own: whoever changed it wins.
    ends = [text.endswith("\n") or not text for text in (base, yours, new)]
    final_newline = ends[1] if ends[1] != ends[0] else ends[2]
    if not final_newline and not conflicts and merged.endswith("\n"):
        merged = merged[:-1]
    return merged, conflicts


def _lines(text: str) -> list[str]:
    """Lines for the merge, each ending in a newline, so that a last line without one
    compares equal to itself with one and never fuses with a conflict marker."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines
