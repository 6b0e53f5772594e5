"""The tree as C2SP tlog-tiles: tile paths, tile contents, and a compact tree that keeps them.

A tile at level ``L`` holds up to 256 hashes of level ``8 * L`` of the Merkle tree (at level 0,
leaf hashes); tile ``N`` starts at hash ``256 * N``. :class:`TiledTree` keeps the leaf hashes and
the hashes of every full tile's subtree, which is all any proof needs: a subtree hash at another
level is at most 128 hashes away. :class:`TileHashes` keeps what an observer computed from the
entries, to check the tiles a mirror serves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pollnet.tlog import merkle

TILE_WIDTH = 256
TILE_HEIGHT = 8
HASH = merkle.HASH_SIZE


class TileError(ValueError):
    """A tile path that is not one of a tlog-tiles log."""


def index_path(n: int) -> str:
    """``N`` as zero-padded 3-digit path elements, all but the last with an ``x``."""
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``: a tile of hashes (level an int) or entries (``"entries"``)."""
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{index_path(n)}{suffix}"


def parse_tile_path(path: str) -> tuple[int | str, int, int]:
    """``(level or "entries", N, width)`` of a path made by :func:`tile_path`."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TileError(path)
    level_text, rest = parts[1], parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not rest[-1].isdigit() or rest[-1].startswith("0"):
            raise TileError(path)
        width = int(rest[-1])
        rest = [*rest[:-2], rest[-2][:-2]]
        if not 1 <= width < TILE_WIDTH:
            raise TileError(path)
    n = 0
    for i, part in enumerate(rest):
        digits = part[1:] if i < len(rest) - 1 and part.startswith("x") else part
        if len(digits) != 3 or not digits.isdigit() or (i < len(rest) - 1) != part.startswith("x"):
            raise TileError(path)
        n = n * 1000 + int(digits)
    if index_path(n) != "/".join(rest):
        raise TileError(path)
    level: int | str
    if level_text == "entries":
        level = "entries"
    elif level_text.isdigit() and (level_text == "0" or not level_text.startswith("0")):
        level = int(level_text)
        if level > 63:
            raise TileError(path)
    else:
        raise TileError(path)
    return level, n, width


def tiles_for(size: int) -> list[tuple[int, int, int]]:
    """Every tile ``(level, N, width)`` of a tree of ``size`` leaves (full and partial)."""
    out = []
    level = 0
    count = size
    while count > 0:
        full, partial = divmod(count, TILE_WIDTH)
        out += [(level, n, TILE_WIDTH) for n in range(full)]
        if partial:
            out.append((level, full, partial))
        count = full
        level += 1
    return out


class TiledTree:
    """An append-only tree keeping leaf hashes and every full tile's subtree hash, in bytearrays.

    ``levels[k]`` holds the hashes at tree level ``8 * k``; 32 bytes a leaf in all (1.6 million
    entries: 51 MB).
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH

    def append(self, leaf: bytes) -> None:
        row = self.levels[0]
        if len(leaf) == HASH and (len(row) + HASH) % (TILE_WIDTH * HASH):
            row += leaf  # no tile completes: the common case, kept cheap
        else:
            self.extend(leaf)

    def extend(self, leaves: bytes) -> None:
        """Append a run of 32-byte leaf hashes (one ``bytes``), completing the tiles they fill."""
        if len(leaves) % HASH:
            raise ValueError("leaf hashes are 32 bytes each")
        self.levels[0] += leaves
        span = TILE_WIDTH * HASH
        k = 0
        while len(self.levels[k]) >= span:
            if k + 1 == len(self.levels):
                self.levels.append(bytearray())
            row, above = self.levels[k], self.levels[k + 1]
            for start in range(len(above) // HASH * span, len(row) - span + 1, span):
                above += merkle.perfect_root(
                    [bytes(row[i : i + HASH]) for i in range(start, start + span, HASH)]
                )
            k += 1

    def _hashes(self, k: int, start: int, count: int) -> list[bytes]:
        row = self.levels[k]
        return [bytes(row[i * HASH : (i + 1) * HASH]) for i in range(start, start + count)]

    def hash_at(self, level: int, n: int) -> bytes:
        """The hash of the perfect subtree at ``level``, position ``n`` (it must be complete)."""
        k, rest = divmod(level, TILE_HEIGHT)
        width = 1 << rest
        hashes = self._hashes(k, n * width, width)
        if len(hashes[-1]) != HASH:
            raise merkle.ProofError("that subtree is not complete")
        return merkle.perfect_root(hashes)

    def root(self, size: int | None = None) -> bytes:
        return merkle.tree_hash(self.hash_at, self.size if size is None else size)

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self.hash_at, index, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(self.hash_at, old, new)

    def tile(self, level: int, n: int, width: int, size: int) -> bytes:
        """The bytes of tile ``(level, n)`` of width ``width``, if a tree of ``size`` has it."""
        available = size // TILE_WIDTH**level - n * TILE_WIDTH
        if level >= len(self.levels) or width > min(available, TILE_WIDTH) or width < 1:
            raise TileError(tile_path(level, n, width))
        start = n * TILE_WIDTH * HASH
        return bytes(self.levels[level][start : start + width * HASH])


def tree_from_tiles(size: int, fetch: Callable[[int, int, int], bytes]) -> TiledTree:
    """Rebuild the tree of ``size`` leaves from its tiles; ``fetch(level, n, width)`` -> bytes.

    Only level 0 is fetched; the levels above are recomputed (an observer checks them this way).
    """
    tree = TiledTree()
    for level, n, width in tiles_for(size):
        if level != 0:
            continue
        data = fetch(0, n, width)
        if len(data) != width * HASH:
            raise TileError(tile_path(0, n, width))
        for i in range(width):
            tree.append(data[i * HASH : (i + 1) * HASH])
    return tree


def split_bundle(bundle: bytes, width: int) -> list[bytes]:
    """The ``width`` entries of an entry bundle (each with a big-endian uint16 length first);
    raises :class:`TileError` when the bundle holds fewer entries or more bytes."""
    out = []
    pos = 0
    size = len(bundle)
    for _ in range(width):
        if pos + 2 > size:
            raise TileError("short")
        end = pos + 2 + ((bundle[pos] << 8) | bundle[pos + 1])
        out.append(bundle[pos + 2 : end])
        pos = end
    if pos != size:
        raise TileError("trailing bytes or short")
    return out


class TileHashes:
    """The hashes an observer computed from entries, per tile level (``levels[k]`` at tree
    level ``8 * k``, ``k`` >= 1), to check the log's hash tiles against.

    Full entry bundles are added in order from bundle ``first``; each level keeps the run of
    hashes it knows completely (a hash of level ``k + 1`` once all 256 hashes under it at level
    ``k`` were computed here).
    """

    def __init__(self, first: int) -> None:
        self.starts: list[int] = [first]
        self.levels: list[list[bytes]] = [[]]

    def add(self, root: bytes) -> None:
        """Add the root of the next full entry bundle (the next hash of level 1)."""
        k = 0
        h = root
        while True:
            row = self.levels[k]
            row.append(h)
            end = self.starts[k] + len(row)
            if end % TILE_WIDTH or end - TILE_WIDTH < self.starts[k]:
                return
            h = merkle.perfect_root(row[-TILE_WIDTH:])
            k += 1
            if k == len(self.levels):
                self.levels.append([])
                self.starts.append(end // TILE_WIDTH - 1)

    def checkable(self, size: int) -> list[tuple[int, int, int]]:
        """The hash tiles ``(level, N, width)`` above level 0 of a tree of ``size`` leaves whose
        every hash was computed here."""
        out = []
        for level, n, width in tiles_for(size):
            k = level - 1
            if k < 0 or k >= len(self.levels):
                continue
            lo = n * TILE_WIDTH
            if self.starts[k] <= lo and lo + width <= self.starts[k] + len(self.levels[k]):
                out.append((level, n, width))
        return out

    def tile(self, level: int, n: int, width: int) -> bytes:
        """The bytes the tile ``(level, n)`` of ``width`` hashes must hold (it is checkable)."""
        k = level - 1
        lo = n * TILE_WIDTH - self.starts[k]
        return b"".join(self.levels[k][lo : lo + width])
