"""A conversation with the bot written down as the person sees it: docs/conversation.<language>.md.

`Chat` drives a `Person` (tests/driver.py) step by step and, after each step, turns the Bot API calls the bot made
for that person's chat into readable lines: each message's text and buttons, its edits, toasts, chat actions,
deletions and the pictures sent (type and pixel size, never bytes). `Transcript` collects the flows into one
Markdown file and compares it with the committed one (`--update-transcripts` rewrites it instead).

What would change from run to run is left out or normalised, so that the file only changes when what the person
sees changes:
- the bot's messages are numbered #1, #2, ... in the order they appear in each flow (no Telegram ids);
- numbers of seconds, minutes and hours are written N ("Done in N s"; a quota's "in N h N min"), clock times HH:MM
  of a day are kept (the quotas reset at a fixed time);
- a job's progress message is shown once, at its first edit: the edits that follow it (the bar filling up, the
  time left, the previews) are collapsed into that one, since how many there are depends on the machine;
- an edit that changes nothing the person sees (same text and buttons) is left out: Telegram refuses it ("message
  is not modified"), and whether the bot makes it can depend on who gets there first;
- a progress edit that lands just after the job's message became final, and is undone by the worker's own final
  edit, is left out (the worker's last report racing a cancel; the person may see the bar flash for a moment);
- chat actions are shown once per step, however often they are repeated.
"""

from __future__ import annotations

import difflib
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from infra.local.fake_bot_api import Call
from tests.driver import Person
from tests.factories import message_update, next_update_id

DOCS = Path(__file__).resolve().parents[1] / "docs"
REGENERATE = "make transcripts"

# Numbers of time units (durations) are written N: they depend on the machine and the moment.
_DURATIONS = re.compile(
    r"\b\d+(?=\s?(?:s|secs?|seconds?|min|mins|minutes?|h|hours?|с|сек|секунд[аы]?|мин|минут[аы]?|ч|час(?:а|ов)?)\b)"
)
# A line of a progress bar: "▓▓▓░░░ 42%".
_PROGRESS = re.compile(r"^[▓░]+ \d+%", re.MULTILINE)

# The words of the transcript itself (not the bot's), in the language of the conversation.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "writes": "writes “{text}”",
        "photo": "sends a photo {size}",
        "album": "{what} (album, {i} of {n})",
        "file": "sends a file {name} ({what})",
        "sticker": "sends a sticker",
        "tap": "taps [{label}] under #{n}",
        "message": "💬 #{n}",
        "edited": "✏️ #{n} edited",
        "progress": "✏️ #{n} progress (its first edit; then the bar fills up as the work goes on)",
        "buttons_removed": "✏️ #{n} buttons removed",
        "caption_edited": "✏️ #{n} caption edited",
        "picture_replaced": "✏️ #{n} picture replaced: {picture}",
        "no_buttons": "(its buttons are gone)",
        "deleted": "🗑 #{n} deleted",
        "toast": "🔔 toast: {text}",
        "alert": "⚠️ alert: {text}",
        "action": "💭 chat action: {action}",
        "sent_photo": "🖼 #{n} photo {picture}",
        "sent_file": "📄 #{n} file {picture}",
        "album_sent": "🖼 #{first}–#{last} album of {count}",
        "reply": "↩️ in reply to {what}",
        "your_message": "your message",
        "your_photo": "your photo {size}",
        "nothing": "(nothing visible)",
        "not_image": "{size} bytes, not an image",
        "other_call": "⚙️ {method}",
        "typing": "typing…",
        "upload_photo": "sending a photo…",
        "upload_document": "sending a file…",
    },
    "ru": {
        "writes": "пишет «{text}»",
        "photo": "присылает фото {size}",
        "album": "{what} (альбом, {i} из {n})",
        "file": "присылает файл {name} ({what})",
        "sticker": "присылает стикер",
        "tap": "нажимает [{label}] под #{n}",
        "message": "💬 #{n}",
        "edited": "✏️ #{n} изменено",
        "progress": "✏️ #{n} ход работы (первое изменение; дальше полоска заполняется по ходу работы)",
        "buttons_removed": "✏️ #{n} кнопки убраны",
        "caption_edited": "✏️ #{n} изменена подпись",
        "picture_replaced": "✏️ #{n} заменена картинка: {picture}",
        "no_buttons": "(кнопок под ним больше нет)",
        "deleted": "🗑 #{n} удалено",
        "toast": "🔔 всплывающее уведомление: {text}",
        "alert": "⚠️ окно с сообщением: {text}",
        "action": "💭 статус в чате: {action}",
        "sent_photo": "🖼 #{n} фото {picture}",
        "sent_file": "📄 #{n} файл {picture}",
        "album_sent": "🖼 #{first}–#{last} альбом из {count}",
        "reply": "↩️ в ответ на {what}",
        "your_message": "ваше сообщение",
        "your_photo": "ваше фото {size}",
        "nothing": "(ничего не видно)",
        "not_image": "{size} байт, не изображение",
        "other_call": "⚙️ {method}",
        "typing": "печатает…",
        "upload_photo": "отправляет фото…",
        "upload_document": "отправляет файл…",
    },
}


def is_progress(text: str) -> bool:
    """Whether a message's text (or caption) is a job's progress: it holds a progress bar."""
    return bool(_PROGRESS.search(text))


# The pictures the bot uploaded in albums, by the file id the fake Bot API gave them (for the whole test session:
# the webhook's container reuses file ids across flows and languages).
_UPLOADED: dict[str, bytes] = {}


def normalise(text: str) -> str:
    """The text with what varies from run to run written the same way every time."""
    return _DURATIONS.sub("N", text)


def picture_info(data: bytes, language: str) -> str:
    """ "256×171 JPEG": a picture's pixel size and format (never its bytes)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return f"{image.width}×{image.height} {image.format}"
    except Exception:
        return WORDS[language]["not_image"].format(size=len(data))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _labels(markup: dict[str, Any] | None) -> tuple[tuple[str, ...], ...]:
    rows = (markup or {}).get("inline_keyboard") or []
    return tuple(tuple(str(b.get("text", "")) for b in row) for row in rows)


@dataclass
class Shown:
    """What one of the bot's messages shows now."""

    number: int
    text: str
    buttons: tuple[tuple[str, ...], ...]
    call: Call  # the call that set its buttons (a tap is made on it)
    progress: bool = False


@dataclass
class _Event:
    """One visible change, as lines, with what it did to a message (for the flash rule)."""

    lines: list[str]
    message_id: int | None = None
    before: tuple[str, tuple[tuple[str, ...], ...], bool] | None = None
    after: tuple[str, tuple[tuple[str, ...], ...], bool] | None = None


@dataclass
class Chat:
    """One flow of one person: do something, then write down what they did and what the bot showed."""

    person: Person
    lines: list[str]
    messages: dict[int, Shown] = field(default_factory=dict)
    user_messages: dict[int, str] = field(default_factory=dict)
    seen: int = 0

    @property
    def language(self) -> str:
        return self.person.language

    def w(self, key: str, **values: object) -> str:
        return WORDS[self.language][key].format(**values)

    # --- what the person does ---------------------------------------------------------------------------------
    def send(self, text: str, *, then: Callable[[], object] | None = None) -> None:
        """A command or text."""
        update = message_update(text, user_id=self.person.user_id, language_code=self.language)
        shown = text if text.startswith("/") else self.w("writes", text=text)
        self.user_messages[update["message"]["message_id"]] = self.w("your_message")
        self.step(shown, update, then=then)

    def photo(
        self,
        data: bytes,
        *,
        album: str | None = None,
        position: tuple[int, int] | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        """A compressed photo (Telegram sends its sizes; the bot takes the largest), alone or in an album."""
        with Image.open(io.BytesIO(data)) as image:
            size = f"{image.width}×{image.height}"
        file_id = self.person.telegram.add_file(data)
        largest = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data)}
        width, height = size.split("×")
        fields: dict[str, Any] = {"photo": [{**largest, "width": int(width), "height": int(height)}]}
        if album:
            fields["media_group_id"] = album
        update = self.person.message(**fields)
        self.user_messages[update["message"]["message_id"]] = self.w("your_photo", size=size)
        what = self.w("photo", size=size)
        if position is not None:
            what = self.w("album", what=what, i=position[0], n=position[1])
        self.step(what, update, then=then)

    def album(self, pictures: Sequence[bytes], *, then: Callable[[], object] | None = None) -> None:
        """An album: Telegram delivers each of its pictures as an update of its own, with one media group id;
        `then` is waited for after the last one (the album's wakeup)."""
        group = f"album{next_update_id()}"
        for i, data in enumerate(pictures, start=1):
            last = i == len(pictures)
            self.photo(data, album=group, position=(i, len(pictures)), then=then if last else None)

    def document(self, data: bytes, mime_type: str, name: str, *, then: Callable[[], object] | None = None) -> None:
        file_id = self.person.telegram.add_file(data)
        document = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_name": name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        update = self.person.message(document=document)
        info = picture_info(data, self.language) if mime_type.startswith("image/") else mime_type
        self.user_messages[update["message"]["message_id"]] = name
        self.step(self.w("file", name=name, what=info), update, then=then)

    def sticker(self) -> None:
        file_id = self.person.telegram.add_file(b"")
        sticker = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        self.step(self.w("sticker"), self.person.message(sticker=sticker))

    def tap(self, label: str, *, under: int | None = None, then: Callable[[], object] | None = None) -> None:
        """Tap the button whose label holds `label`, on message #`under` or on the newest message showing it."""
        candidates = [
            m
            for m in sorted(self.messages.values(), key=lambda m: m.number, reverse=True)
            if (under is None or m.number == under) and any(label in b for row in m.buttons for b in row)
        ]
        assert candidates, f"no button {label!r} on {'#' + str(under) if under else 'any message'}: " + "; ".join(
            f"#{m.number} {m.buttons}" for m in self.messages.values()
        )
        shown = candidates[0]
        full = next(b for row in shown.buttons for b in row if label in b)
        # The tap on the message as it stands: the driver reads its buttons' callback data from the call that
        # set them.
        update = self.person.tap_update(label, message=shown.call)
        update["callback_query"]["message"]["message_id"] = self._message_id(shown)
        self.step(self.w("tap", label=full, n=shown.number), update, then=then)

    def step(self, what: str, update: dict[str, Any], *, then: Callable[[], object] | None = None) -> None:
        """Deliver `update`, wait for `then` (a job's end) if given, and write down what the bot showed."""
        self.person.deliver(update)
        if then is not None:
            then()
        self.lines.append(f"> 👤 **{what}**")
        self.lines.append("")
        self.lines.extend(self.flush())

    def note(self, text: str) -> None:
        """A line of the narrator's (what happened off screen)."""
        self.lines.extend([f"*{text}*", ""])

    # --- what the bot showed ----------------------------------------------------------------------------------
    def flush(self) -> list[str]:
        """The bot's visible answers since the last step, as a fenced block."""
        calls = self.person.calls()
        new, self.seen = calls[self.seen :], len(calls)
        events: list[_Event] = []
        actions: set[str] = set()
        for call in new:
            event = self._event(call, actions)
            if event is not None:
                events.append(event)
        events = _without_flashes(events)
        lines = [line for event in events for line in event.lines]
        return ["```text", *(lines or [self.w("nothing")]), "```", ""]

    def _message_id(self, shown: Shown) -> int:
        return next(mid for mid, m in self.messages.items() if m is shown)

    def _number(self, message_id: int) -> int:
        known = self.messages.get(message_id)
        return known.number if known else len(self.messages) + 1

    def _body(self, text: str | None, buttons: tuple[tuple[str, ...], ...]) -> list[str]:
        lines = [("   " + line).rstrip() for line in normalise(text or "").splitlines()]
        lines += ["   " + " ".join(f"[{label}]" for label in row) for row in buttons]
        return lines

    def _reply_to(self, params: dict[str, Any]) -> list[str]:
        replied = _json(params.get("reply_parameters")) or {}
        message_id = replied.get("message_id") or params.get("reply_to_message_id")
        if message_id is None:
            return []
        what = self.user_messages.get(int(message_id), self.w("your_message"))
        return ["   " + self.w("reply", what=what)]

    def _event(self, call: Call, actions: set[str]) -> _Event | None:
        params, method = call.params, call.method
        result = call.result if isinstance(call.result, dict) else {}
        if call.result is None:  # refused by the fake (a scripted error): the person saw nothing
            return None
        if method == "answerCallbackQuery":
            toast = params.get("text")
            if not toast:
                return None
            alert = str(params.get("show_alert", "")).lower() == "true"
            return _Event([self.w("alert" if alert else "toast", text=normalise(str(toast)))])
        if method == "sendChatAction":
            action = str(params.get("action"))
            if action in actions:
                return None
            actions.add(action)
            words = WORDS[self.language]
            return _Event([self.w("action", action=f"{action} ({words[action]})" if action in words else action)])
        if method == "sendMessage":
            return self._new(int(result["message_id"]), call, self.w("message", n="{n}"), str(params.get("text", "")))
        if method in ("sendPhoto", "sendDocument"):
            kind = "photo" if method == "sendPhoto" else "document"
            info = picture_info(call.files.get(kind, b""), self.language)
            head = self.w("sent_photo" if kind == "photo" else "sent_file", n="{n}", picture=info)
            caption = str(params.get("caption") or "")
            return self._new(int(result["message_id"]), call, head, caption, extra=self._reply_to(params))
        if method == "sendMediaGroup":
            return self._album(call)
        if method in ("editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"):
            return self._edit(call)
        if method == "deleteMessage":
            message_id = int(params.get("message_id", 0))
            shown = self.messages.pop(message_id, None)
            return _Event([self.w("deleted", n=shown.number if shown else "?")])
        if method in ("getFile", "getMe", "setMyCommands", "getWebhookInfo"):
            return None
        return _Event([self.w("other_call", method=method)])

    def _new(self, message_id: int, call: Call, head: str, text: str, extra: Sequence[str] = ()) -> _Event:
        number = len(self.messages) + 1
        buttons = _labels(call.reply_markup)
        progress = is_progress(text)
        self.messages[message_id] = Shown(number, normalise(text), buttons, call, progress)
        return _Event([head.format(n=number), *extra, *self._body(text, buttons)])

    def _album(self, call: Call) -> _Event:
        items = _json(call.params.get("media")) or []
        results = call.result if isinstance(call.result, list) else []
        first = len(self.messages) + 1
        lines = [self.w("album_sent", first=first, last=first + len(items) - 1, count=len(items))]
        for item, sent in zip(items, results, strict=False):
            media = str(item.get("media", ""))
            # A picture the bot uploaded before is sent again by the file id Telegram gave it: shown as uploaded.
            data = call.files.get(media.removeprefix("attach://"), b"") or _UPLOADED.get(media, b"")
            for size in sent.get("photo", [])[-1:]:
                _UPLOADED[str(size["file_id"])] = data
            number = len(self.messages) + 1
            caption = str(item.get("caption") or "")
            self.messages[int(sent["message_id"])] = Shown(number, normalise(caption), (), call)
            lines.append(f"   #{number} {picture_info(data, self.language)}" + (f": {caption}" if caption else ""))
        return _Event(lines)

    def _edit(self, call: Call) -> _Event | None:
        params, method = call.params, call.method
        message_id = int(params.get("message_id", 0))
        shown = self.messages.get(message_id)
        if shown is None:  # a message this flow never saw (it would be a bug of the flow's script)
            shown = Shown(len(self.messages) + 1, "", (), call)
            self.messages[message_id] = shown
        before = (shown.text, shown.buttons, shown.progress)
        # Telegram's edits without reply_markup remove the message's inline keyboard.
        buttons = _labels(call.reply_markup)
        if method == "editMessageReplyMarkup":
            text = shown.text
        elif method == "editMessageText":
            text = normalise(str(params.get("text", "")))
        else:
            text = normalise(str(params.get("caption") or ""))
        progress = is_progress(text)
        after = (text, buttons, progress)
        if method != "editMessageMedia" and after[:2] == before[:2]:
            return None  # not modified: Telegram refuses such an edit, and the person sees nothing
        if progress and shown.progress:
            return None  # collapsed into the first progress edit
        shown.text, shown.buttons, shown.progress = text, buttons, progress
        if buttons:
            shown.call = call
        n = shown.number
        if method == "editMessageReplyMarkup":
            lines = [self.w("buttons_removed", n=n)] if not buttons else [self.w("edited", n=n)]
            lines += self._body(None, buttons)
        elif method == "editMessageMedia":
            media = _json(params.get("media")) or {}
            data = call.files.get(str(media.get("media", "")).removeprefix("attach://"), b"")
            head = self.w("progress", n=n) if progress else self.w("picture_replaced", n=n, picture=picture_info(
                data, self.language))  # fmt: skip
            lines = [head, *self._body(text, buttons)]
        else:
            key = "progress" if progress else ("caption_edited" if method == "editMessageCaption" else "edited")
            lines = [self.w(key, n=n), *self._body(text, buttons)]
            if before[1] and not buttons:
                lines.append("   " + self.w("no_buttons"))
        return _Event(lines, message_id, before, after)


def _without_flashes(events: list[_Event]) -> list[_Event]:
    """Leave out a run of progress edits of a message that had become final, undone by an edit back to what it
    showed before the run (the worker's last progress report racing a cancel, then the worker's own final edit)."""
    dropped: set[int] = set()
    for i, event in enumerate(events):
        if event.message_id is None or event.after is None or not event.after[2] or event.before is None:
            continue
        if event.before[2]:
            continue
        for j in range(i + 1, len(events)):
            later = events[j]
            if later.message_id != event.message_id or later.after is None:
                continue
            if later.after[2]:
                continue  # another progress edit of the run
            if later.after[:2] == event.before[:2]:
                dropped.update(k for k in range(i, j + 1) if events[k].message_id == event.message_id)
            break
    return [e for k, e in enumerate(events) if k not in dropped]


@dataclass
class Transcript:
    """One language's transcript: a header, then the flows, each a section of its own."""

    language: str
    title: str
    intro: str
    lines: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return DOCS / f"conversation.{self.language}.md"

    def flow(self, title: str, person: Person) -> Chat:
        number = len(self.contents) + 1
        heading = f"{number}. {title}"
        self.contents.append(heading)
        self.lines.extend([f"## {heading}", ""])
        return Chat(person, self.lines)

    def text(self) -> str:
        toc = [f"- [{h}](#{_anchor(h)})" for h in self.contents]
        head = [f"# {self.title}", "", self.intro, "", *toc, ""]
        return "\n".join([*head, *self.lines]).rstrip("\n") + "\n"

    def check(self, update: bool) -> None:
        """Compare with the committed file (or, updating, write it); a difference fails with a unified diff."""
        import pytest

        written = self.text()
        if update:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(written, encoding="utf-8")
            return
        committed = self.path.read_text(encoding="utf-8") if self.path.is_file() else ""
        if committed == written:
            return
        relative = self.path.relative_to(DOCS.parent)
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            written.splitlines(keepends=True),
            fromfile=f"{relative} (committed)",
            tofile=f"{relative} (this run)",
        )
        pytest.fail(
            f"{relative} differs from what the bot shows now; if the change is meant, run `{REGENERATE}` and "
            f"commit the file.\n\n{''.join(diff)}",
            pytrace=False,
        )


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")
