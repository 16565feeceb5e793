"""The bundled deck in a collection that already holds it: corrections reach the learner.

`studyapp init`, and the app's first start after an upgrade, bring a collection's copy of the
bundled deck in line with the files in `cards/`:

- a bundled card the collection lacks is added (as on the very first start);
- a card whose content is one that a release of the app shipped (so the learner has not
  edited it) takes the new content in place: its scheduling state and review history stay;
- a card the learner edited is left exactly as it is, and reported;
- a card merged into another (the "Merged cards" table of `cards/README.md`) hands its review
  history to the card kept, and is removed.

Which contents the app has shipped is recorded in `cards/history.json`, a fingerprint of
every version of every bundled card and deck description, written from the repository's
history by `scripts/bundled_history.py`. A fingerprint covers what a learner can edit (front,
back, tags, source, demo link) and nothing the app itself changes: the `leech` tag the
scheduler adds is left out of it, and kept through an update.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow, PredictionRow, ReviewRow
from studyapp.errors import UserError
from studyapp.formats.base import CardDraft, ParseResult
from studyapp.model import LEECH_TAG, normalize_tags
from studyapp.services.draft_mapping import key_to_uid

HISTORY_FILE = "history.json"
HISTORY_FORMAT = 1

# A merged card's scheduling columns: the kept card takes them from whichever of the two
# was reviewed last, so the schedule follows the most recent memory of the idea.
_STATE_COLUMNS = ("ease_cents", "interval", "repetitions", "lapses", "due")


class BundledHistoryError(UserError):
    """`cards/history.json` is missing or unreadable: a broken installation."""


def card_fingerprint(
    front: str,
    back: str,
    tags: Iterable[str],
    source: str,
    demo_id: str | None,
    demo_params: Mapping[str, Any] | None,
) -> str:
    """What a learner can edit of a card, as it is stored, hashed.

    Text is taken as the importer stores it (line ends made `\\n`, the source's whitespace
    collapsed); tags without order and without the `leech` tag the scheduler adds.
    """
    content = [
        front.replace("\r\n", "\n").replace("\r", "\n"),
        back.replace("\r\n", "\n").replace("\r", "\n"),
        sorted(t for t in normalize_tags(tags) if t != LEECH_TAG),
        " ".join(source.split()),
        demo_id,
        dict(demo_params) if demo_id is not None and demo_params else {},
    ]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def draft_fingerprint(draft: CardDraft) -> str:
    demo = draft.demo
    return card_fingerprint(
        draft.front,
        draft.back,
        draft.tags,
        draft.source,
        demo.id if demo else None,
        demo.params if demo else None,
    )


def row_fingerprint(row: CardRow) -> str:
    demo = repo.demo_from_db(row.demo_id, row.demo_params)
    return card_fingerprint(
        row.front,
        row.back,
        repo.tags_from_db(row.tags),
        row.source,
        demo.id if demo else None,
        demo.params if demo else None,
    )


def text_fingerprint(text: str) -> str:
    """A deck description's fingerprint."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class BundledHistory:
    """Every content the app has shipped, by card id and by deck name, and the merges."""

    cards: Mapping[str, frozenset[str]]
    decks: Mapping[str, frozenset[str]]
    merged: Mapping[str, str]  # removed card id -> the id of the card kept in its place

    @classmethod
    def read(cls, folder: Path) -> BundledHistory:
        path = folder / HISTORY_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != HISTORY_FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {HISTORY_FORMAT}")
            return cls(
                cards={uid: frozenset(fps) for uid, fps in data["cards"].items()},
                decks={name: frozenset(fps) for name, fps in data["decks"].items()},
                merged={str(k): str(v) for k, v in data["merged"].items()},
            )
        except FileNotFoundError:
            # A folder of deck files without a history (a deck folder a test or a packager
            # made): nothing was shipped before, so nothing can be told apart from an edit.
            return cls(cards={}, decks={}, merged={})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundledHistoryError(f"{path} cannot be read: {exc}") from None

    @classmethod
    def of(cls, versions: Iterable[ParseResult], merged: Mapping[str, str]) -> BundledHistory:
        """The history of these parsed deck files (every version ever shipped)."""
        cards: dict[str, set[str]] = {}
        decks: dict[str, set[str]] = {}
        for result in versions:
            for draft in result.cards:
                if draft.key:
                    cards.setdefault(repo_uid(draft), set()).add(draft_fingerprint(draft))
            if result.deck_name and result.description is not None:
                decks.setdefault(result.deck_name, set()).add(text_fingerprint(result.description))
        return cls(
            cards={uid: frozenset(fps) for uid, fps in cards.items()},
            decks={name: frozenset(fps) for name, fps in decks.items()},
            merged=dict(merged),
        )

    def to_json(self) -> str:
        """The file's text: one line per card, deck and merge, so a change reads as a diff."""

        def lines(table: Mapping[str, Any], values: Any) -> str:
            if not table:
                return "{}"
            rows = ",\n".join(
                f"    {json.dumps(key, ensure_ascii=False)}: {values(value)}"
                for key, value in sorted(table.items())
            )
            return f"{{\n{rows}\n  }}"

        def fingerprints(fps: frozenset[str]) -> str:
            return json.dumps(sorted(fps))

        return (
            f'{{\n  "format": {HISTORY_FORMAT},\n'
            f'  "cards": {lines(self.cards, fingerprints)},\n'
            f'  "decks": {lines(self.decks, fingerprints)},\n'
            f'  "merged": {lines(self.merged, json.dumps)}\n}}\n'
        )


@dataclass
class BundledUpdate:
    """What bringing the bundled deck up to date did, for `init` and the app to say."""

    added: int = 0
    updated: list[str] = field(default_factory=list)  # card ids given the new content
    merged: list[tuple[str, str]] = field(default_factory=list)  # (removed, kept)
    edited: list[str] = field(default_factory=list)  # card ids left alone: the learner's edits
    decks_updated: list[str] = field(default_factory=list)  # deck descriptions replaced
    warnings: list[str] = field(default_factory=list)
    left_out: int = 0  # bundled cards not added: the learner deleted them (or their deck)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.merged or self.decks_updated)

    def summary(self) -> str:
        """One sentence for a person: what changed, and which edited cards were kept."""
        parts = []
        if self.added:
            parts.append(_count(self.added, "card", "added"))
        if self.updated:
            parts.append(_count(len(self.updated), "card", "updated"))
        if self.merged:
            parts.append(_count(len(self.merged), "duplicate card", "merged"))
        if self.decks_updated:
            parts.append(_count(len(self.decks_updated), "deck description", "updated"))
        text = "The bundled deck is up to date"
        if parts:
            text = f"Bundled deck: {', '.join(parts)}"
        if self.edited:
            shown = ", ".join(self.edited[:5]) + (", ..." if len(self.edited) > 5 else "")
            n = len(self.edited)
            edited = "1 card you edited was" if n == 1 else f"{n} cards you edited were"
            text += f"; {edited} left as you wrote {'it' if n == 1 else 'them'} ({shown})"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "merged": [{"removed": r, "kept": k} for r, k in self.merged],
            "edited": self.edited,
            "decks_updated": self.decks_updated,
            "warnings": self.warnings,
            "left_out": self.left_out,
        }


def _count(n: int, noun: str, done: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'} {done}"


class BundledSync:
    """Applies the bundled deck's current files to a collection that already holds it.

    Runs inside the caller's unit of work, after the missing cards were added, so the whole
    update is one transaction: all of it lands, or none.
    """

    def __init__(
        self,
        session: Session,
        history: BundledHistory,
        now: datetime,
        renamed: Mapping[str, str] | None = None,
    ) -> None:
        """`renamed` maps a bundled deck's name to the one the learner gave it."""
        self.session = session
        self.history = history
        self.now = now
        self.bundled_names = {now: bundled for bundled, now in (renamed or {}).items()}
        self.renamed: dict[str, str] = {}  # kept id -> the removed card that took it

    def apply(self, parsed: Sequence[ParseResult], report: BundledUpdate) -> None:
        drafts = {repo_uid(d): d for result in parsed for d in result.cards if d.key}
        self._merge(drafts, report)
        self._update_cards(drafts, report)
        self._update_decks(parsed, report)

    def plan_needed(self, parsed: Sequence[ParseResult]) -> bool:
        """Whether anything would change (so a backup is worth taking first)."""
        probe = BundledUpdate()
        drafts = {repo_uid(d): d for result in parsed for d in result.cards if d.key}
        rows = self._rows(set(drafts) | set(self.history.merged))
        if any(uid in rows for uid in self.history.merged):
            return True
        for uid, draft in drafts.items():
            row = rows.get(uid)
            if row is None:
                return True
            if self._verdict(uid, row, draft, probe) == "update":
                return True
        return any(self._deck_verdicts(parsed).values())

    # --- cards ------------------------------------------------------------------------------

    def _rows(self, uids: Iterable[str]) -> dict[str, CardRow]:
        wanted = sorted(uids)
        found: dict[str, CardRow] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                (row.uid, row)
                for row in self.session.scalars(select(CardRow).where(CardRow.uid.in_(chunk)))
            )
        return found

    def _verdict(self, uid: str, row: CardRow, draft: CardDraft, report: BundledUpdate) -> str:
        current = row_fingerprint(row)
        if current == draft_fingerprint(draft):
            return "same"
        shipped = self.history.cards.get(uid)
        if uid in self.renamed and shipped is not None:
            shipped |= self.history.cards.get(self.renamed[uid], frozenset())
        if shipped is None:
            return "unknown"  # never shipped before: whose words these are cannot be told
        if current in shipped:
            return "update"
        report.edited.append(uid)
        return "edited"

    def _update_cards(self, drafts: Mapping[str, CardDraft], report: BundledUpdate) -> None:
        rows = self._rows(drafts)
        for uid, draft in drafts.items():
            row = rows.get(uid)
            if row is None or self._verdict(uid, row, draft, report) != "update":
                continue
            front = draft.front.replace("\r\n", "\n").replace("\r", "\n")
            back = draft.back.replace("\r\n", "\n").replace("\r", "\n")
            tags = normalize_tags(draft.tags)
            if LEECH_TAG in repo.tags_from_db(row.tags) and LEECH_TAG not in tags:
                tags = (*tags, LEECH_TAG)
            demo_id, demo_params = repo.demo_to_db(draft.demo)
            row.front, row.back = front, back
            row.tags = repo.tags_to_db(tags)
            row.source = " ".join(draft.source.split())
            row.demo_id, row.demo_params = demo_id, demo_params
            row.content_key = repo.content_key(front, back)
            row.modified_at = self.now
            report.updated.append(uid)
        self.session.flush()

    def _merge(self, drafts: Mapping[str, CardDraft], report: BundledUpdate) -> None:
        merged = self.history.merged
        if not merged:
            return
        rows = self._rows(set(merged) | set(merged.values()))
        for removed_uid, kept_uid in sorted(merged.items()):
            removed = rows.get(removed_uid)
            if removed is None:
                continue
            if row_fingerprint(removed) not in self.history.cards.get(removed_uid, frozenset()):
                # The learner's own words: neither deleted nor folded into another card.
                report.edited.append(removed_uid)
                continue
            kept = rows.get(kept_uid)
            if kept is None:
                # The kept card is not in this collection: the removed one takes its id,
                # and then its content like any other card.
                removed.uid = kept_uid
                rows[kept_uid] = removed
                self.renamed[kept_uid] = removed_uid
                report.merged.append((removed_uid, kept_uid))
                continue
            self._fold(removed, kept)
            report.merged.append((removed_uid, kept_uid))
        self.session.flush()

    def _fold(self, removed: CardRow, kept: CardRow) -> None:
        """Give `kept` the review logs and predictions of both cards, and the schedule of the
        later one."""
        last_removed = self._last_review(removed.id)
        last_kept = self._last_review(kept.id)
        if last_removed is not None and (last_kept is None or last_removed > last_kept):
            for column in _STATE_COLUMNS:
                setattr(kept, column, getattr(removed, column))
            kept.suspended = removed.suspended
            kept.buried_until = removed.buried_until
        kept.modified_at = self.now
        self.session.flush()
        for log in (ReviewRow, PredictionRow):
            self.session.execute(
                update(log).where(log.card_id == removed.id).values(card_id=kept.id)
            )
        self.session.execute(delete(CardRow).where(CardRow.id == removed.id))
        self.session.expunge(removed)

    def _last_review(self, card_id: int) -> datetime | None:
        return self.session.scalar(
            select(ReviewRow.at)
            .where(ReviewRow.card_id == card_id)
            .order_by(ReviewRow.at.desc())
            .limit(1)
        )

    # --- deck descriptions ------------------------------------------------------------------

    def _deck_verdicts(self, parsed: Sequence[ParseResult]) -> dict[str, bool]:
        verdicts: dict[str, bool] = {}
        for result in parsed:
            name, text = result.deck_name, result.description
            if not name or text is None:
                continue
            row = self.session.scalar(select(DeckRow).where(DeckRow.name == name))
            if row is None or row.description.strip() == text.strip():
                verdicts[name] = False
                continue
            shipped = self.history.decks.get(self.bundled_names.get(name, name), frozenset())
            verdicts[name] = text_fingerprint(row.description) in shipped
        return verdicts

    def _update_decks(self, parsed: Sequence[ParseResult], report: BundledUpdate) -> None:
        descriptions = {r.deck_name: r.description for r in parsed if r.deck_name}
        for name, replace in self._deck_verdicts(parsed).items():
            if replace:
                row = self.session.scalar(select(DeckRow).where(DeckRow.name == name))
                assert row is not None
                row.description = descriptions[name] or ""
                report.decks_updated.append(name)
        self.session.flush()


def repo_uid(draft: CardDraft) -> str:
    assert draft.key is not None
    return key_to_uid(draft.key)
