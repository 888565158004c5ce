"""/stats: the operator's numbers, for administrators only; anyone else gets the unknown-command answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handler.bot.commands import on_unknown_command
from handler.bot.dialog import deps, user_language
from handler.core.quotas import past_days
from handler.core.stats import STATS_DAYS, render_stats, shows_stats
from handler.observability import logger


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Today's and the last days' jobs, timings, refusals, budget and cost, from the daily counters."""
    d = deps(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or d.usage is None or not shows_stats(user.id, d.limits):
        await on_unknown_command(update, context)
        return
    days = [d.usage.day_summary(day) for day in past_days(d.clock(), STATS_DAYS)]
    language = user_language(update, d.store.load(user.id))
    report = render_stats(days, language, budget_seconds=d.limits.budget_seconds, price=d.price_per_gb_second)
    logger.info("stats shown to an administrator")
    await d.telegram.send_text(chat.id, report)
