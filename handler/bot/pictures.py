"""Pictures: compressed photos and image documents, alone or in an album, checked before they are accepted."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from handler.bot.dialog import converse, deps
from handler.core.conversation import Image, Input, Rejected
from handler.core.images import check_document, check_image
from handler.core.state import AWAITING_IMAGE


async def on_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept a photo or an image document, or say what is wrong with it."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    await converse(update, context, await _as_input(message, update.effective_user.id, context))


async def _as_input(message: Message, user_id: int, context: ContextTypes.DEFAULT_TYPE) -> Input:
    if message.photo:
        return Image(message.photo[-1].file_id, message.message_id, message.media_group_id)
    document = message.document
    assert document is not None
    problem = check_document(document.mime_type, document.file_size)
    if problem is None and deps(context).store.load(user_id).step in AWAITING_IMAGE:
        # Only a picture that is awaited is worth downloading: Telegram's compressed photos are always
        # valid, but a document may be damaged, truncated or a decompression bomb.
        file = await context.bot.get_file(document.file_id)
        problem = check_image(bytes(await file.download_as_bytearray()))
    if problem is not None:
        return Rejected(problem.reason, problem.values)
    return Image(document.file_id, message.message_id, message.media_group_id)
