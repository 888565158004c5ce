"""Pictures: compressed photos and image documents, alone or in an album, checked before they are accepted."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse, deps
from handler.core.decide import wants_picture
from handler.core.images import check_document, check_image, check_shape
from handler.core.inputs import Input, Picture, Rejected
from handler.core.state import UserState


async def on_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept a photo or an image document, or say what is wrong with it."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    # The state is read once: for whether a document is worth checking, and then for the decision itself.
    state = deps(context).store.load(update.effective_user.id)
    await converse(update, context, await _as_input(message, state, context), loaded=state)


async def _as_input(message: Message, state: UserState, context: ContextTypes.DEFAULT_TYPE) -> Input:
    if message.photo:
        # Telegram says a photo's size: one too small or too narrow for the engine is refused now, not after Start.
        photo = message.photo[-1]
        problem = check_shape(photo.width, photo.height)
        if problem is not None:
            return Rejected(problem.reason, problem.values)
        return Picture(photo.file_id, message.message_id, message.media_group_id)
    document = message.document
    assert document is not None
    problem = check_document(document.mime_type, document.file_size)
    if problem is None and wants_picture(state):
        # Only a picture that is awaited is worth downloading: Telegram's compressed photos are always
        # valid, but a document may be damaged, truncated or a decompression bomb.
        problem = check_image(await deps(context).telegram.download(document.file_id))
    if problem is not None:
        return Rejected(problem.reason, problem.values)
    return Picture(document.file_id, message.message_id, message.media_group_id)
