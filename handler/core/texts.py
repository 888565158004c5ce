"""Everything the bot says, in English and Russian, by key."""

from __future__ import annotations

from typing import Final

from handler.core.job import Language

DEFAULT_LANGUAGE: Final = Language.EN

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "start": (
            "Hi, {name}! I turn your photos into art.\n\n"
            "• Your own style: send a photo and any picture whose style you like.{presets}\n\n"
            "/help shows what I can do."
        ),
        "start_presets": "\n• Presets in seconds: {presets}.",
        "help": (
            "{intro}\n"
            "• Your own style: send the photo, then any picture whose style I should copy.{presets}\n"
            "• Albums: send both at once — the first picture is the photo, the second the style.\n"
            "• Files: send pictures as files to keep every pixel; /settings can send the results as files too.\n\n"
            "/start — the main menu{styles}\n"
            "/cancel — stop what is going on\n"
            "/settings — language, output size, photo or file\n"
            "/forget — erase everything stored about you\n"
            "/help — this message\n\n"
            "Photos are processed in memory and never stored."
        ),
        "help_intro": "I restyle photos in two ways:",
        "help_intro_own": "Here is what I can do:",
        "help_presets": "\n• Presets: pick a style, then send the photo; the result comes in seconds.",
        "help_styles": "\n/styles — the preset gallery",
        "btn_nst": "🎨 Your own style",
        "btn_presets": "🖼 Presets",
        "btn_settings": "⚙️ Settings",
        "btn_help": "❓ Help",
        "btn_use_own_style": "🎨 Use my own style picture",
        "btn_apply_preset": "🖼 Apply a preset",
        "photo_first": "Nice photo! What shall I do with it?",
        "album_choice": "Got two pictures: the first is your photo, the second can be its style. What shall I do?",
        "help_unavailable": "Not available here yet: {what}. To make it available, run: {command}",
        "quality_best_name": "best quality",
        "quality_quick_name": "quick quality",
        "already_started": "Already started.",
        "result_expired": "That picture is too old: I no longer have it. Send it again.",
        "btn_start": "▶️ Start",
        "btn_cancel": "✖️ Cancel",
        "btn_cancel_job": "✖️ Cancel",
        "ask_content": "Send me the photo to restyle (as a photo or an image file). You can also send the photo and the style picture together in one album.",
        "ask_style": "Got the photo. Now send the picture whose style I should copy.",
        "album_first": "Got the first picture of the album, waiting for the second.",
        "album_got": "Got your album, one moment…",
        "album_too_big": "That album had more than two pictures. Send the photo and the style picture, two at most, and I'll take it from there.",
        "one_at_a_time": "One picture at a time, please: I took the first one.",
        "gallery": "Pick a style:",
        "no_presets": "No preset styles can run here yet.",
        "ask_preset_photo": "{preset}: send me the photo to restyle.",
        "nst_options": "Your options:\n• size: {size} px (long side)\n• strength: {strength}\n• original colours: {colors}\n• quality: {quality}\n\nTap ▶️ Start when you are happy.",
        "preset_options": "{preset}.\n• strength: {strength}\n\nTap ▶️ Start.",
        "opt_size": "📐 Size: {size} ▸",
        "opt_strength": "💪 Strength: {strength} ▸",
        "opt_colors_on": "✓ Keep colours",
        "opt_colors_off": "☐ Keep colours",
        "opt_quality": "⚡ Quality: {quality} ▸",
        "strength_low": "low",
        "strength_mid": "medium",
        "strength_high": "high",
        "quality_quick": "quick",
        "quality_best": "best",
        "yes": "yes",
        "no": "no",
        "job_queued": "Your picture is in the queue…",
        "job_busy": "Your previous picture is still being made ({status}). Wait for it or cancel it.",
        "job_status_queued": "queued",
        "job_status_running": "in progress",
        "job_cancelled": "Cancelled: I stopped making that picture. /start shows the menu.",
        "job_start_failed": "I couldn't start on your picture. Please tap ▶️ Start again in a moment.",
        "cancelled": "Cancelled. /start shows the menu.",
        "nothing_to_cancel": "Nothing to cancel. /start shows the menu.",
        "settings": "Settings:\n• language: {lang_name}\n• output size: {size} px\n• results as: {output}",
        "set_lang": "🌐 Language: {lang_name} ▸",
        "set_output": "📨 Results as: {output} ▸",
        "output_photo": "photo",
        "output_file": "PNG file",
        "language_name": "English",
        "forgotten": "Done: I erased everything I stored about you. /start shows the menu.",
        "unknown_command": "I don't know that command. /help lists what I can do.",
        "expect_picture": "I need a picture here: send a photo or an image file, or /cancel.",
        "use_buttons": "Use the buttons above, or /cancel.",
        "idle_text": "I work with pictures. /start shows the menu.",
        "not_expecting_picture": "I'm not waiting for a picture right now. Use the buttons above, or /cancel.",
        "bad_sticker": "That's a sticker. I need a photo or an image file.",
        "bad_voice": "I can't listen to voice or audio. Please send a photo or an image file.",
        "bad_video": "Videos aren't supported. Please send a photo or an image file.",
        "bad_animation": "GIFs and animations aren't supported. Please send a still photo or image file.",
        "bad_location": "A location isn't a picture. Please send a photo or an image file.",
        "bad_contact": "A contact isn't a picture. Please send a photo or an image file.",
        "bad_other": "I can't use that. Please send a photo or an image file.",
        "bad_not_image": "That file isn't an image. Send a JPEG, PNG or WebP picture.",
        "bad_too_big": "That file is over 20 MB, the most Telegram lets bots download. Send a smaller one or as a photo.",
        "bad_corrupt": "I couldn't read that image: it looks damaged or incomplete. Please send another one.",
        "bad_too_many_pixels": "That image is too large ({megapixels} megapixels). Please send one under {limit} megapixels.",
        "bad_unsupported_format": "I can't read that image format. Send a JPEG, PNG or WebP picture.",
        "bad_picture": "I can't use that picture: {reason}. Please send another one.",
        "group_chat": "I work in private chats only: open a chat with me to restyle your photos.",
        "edited": "I don't follow edited messages: please send a new one.",
        "flood": "You're sending a lot at once — please slow down a little and try again in a few seconds.",
        "outdated": "This menu is outdated.",
        "progress": "{title}\n{bar} {percent}%{eta}",
        "progress_eta": " · about {seconds} s left",
        "progress_eta_minutes": " · about {minutes} min left",
        "progress_title_nst": "🎨 Painting your photo in your style…",
        "progress_title_preset": "🖼 Applying {preset}…",
        "progress_starting": "🎨 Starting…",
        "result_summary": "✅ Done in {seconds} s: {details}",
        "result_details_nst": "your style, {quality}, {size} px, strength {strength}, {colors}.",
        "result_details_preset": "{preset}, {size} px, strength {strength}.",
        "colors_kept": "original colours kept",
        "colors_styled": "colours of the style",
        "result_file": "PNG, {width}×{height} px.",
        "btn_again_style": "🔁 Another style",
        "btn_again_options": "🎚 Change options",
        "job_failed_image": "One of your pictures can't be used: {reason}. Please send another one.",
        "job_failed_photo": "I couldn't use your photo: {reason}. Please send another one.",
        "job_failed_style": "I couldn't use your style picture: {reason}. Please send another one.",
        "reason_corrupt": "it looks damaged or incomplete",
        "reason_unsupported_format": "it is not a JPEG, PNG or WebP picture",
        "reason_too_many_pixels": "it has over {limit} megapixels",
        "reason_empty": "the file is empty",
        "reason_too_small": "it is only {width}×{height} px, and I need at least {min_side} px on each side",
        "reason_too_narrow": "at {width}×{height} px it is too narrow: the long side may be at most {ratio} times the short one",
        "job_failed_timeout": "That took too long and I had to stop. Try a smaller size or the quick quality.",
        "job_failed": "Sorry, I couldn't finish your picture. Please try again.",
        "job_too_late": "The picture is already on its way.",
        "error": "Sorry, something went wrong on my side. Please try again in a moment.",
        "quota_kind_quick": "quick pictures",
        "quota_kind_best": "best-quality pictures",
        "quota_kind_preset": "preset pictures",
        "quota_reached": (
            "That's today's limit for {kind}: {limit} a day. It resets at {reset}, in {hours} h {minutes} min. "
            "Thank you for your patience!"
        ),
        "quota_quick_left": "Quick quality still works: tap ▶️ Start.",
        "budget_best_paused": "⏸ Best quality is paused until {reset}: the bot's daily budget is nearly spent. Quick works as usual.",
        "budget_quick_only": "⏸ Until {reset} only quick own-style pictures can be made: the bot's daily budget is spent.",
        "opt_quality_paused": "⚡ Quality: quick ⏸",
        "job_waiting": "⏳ Waiting: {ahead} ahead of yours.",
        "picture_one": "{n} picture",
        "picture_few": "{n} pictures",
        "picture_many": "{n} pictures",
        "job_expired": (
            "Sorry: the queue was so long that your picture waited over {minutes} minutes, so I dropped it. "
            "Please try again a little later. /start shows the menu."
        ),
        "stats_today": "📊 Today, {day} (UTC)",
        "stats_week": "📈 The last {days} days",
        "stats_jobs": "Jobs — {counts}",
        "stats_done": "done",
        "stats_failed": "failed",
        "stats_cancelled": "cancelled",
        "stats_seconds": "Job seconds p50/p95 — {values}",
        "stats_wait": "Queue wait p50/p95: {p50}/{p95} s",
        "stats_refusals": "Quota refusals — {values}",
        "stats_budget": "Budget used: {used} of {budget} worker-seconds{share}",
        "stats_cost": "Estimated cost: ${cost} ({gb_seconds} GB-s × ${price} per GB-s)",
        "cmd_start": "Main menu",
        "cmd_styles": "Preset styles",
        "cmd_cancel": "Stop what is going on",
        "cmd_settings": "Language, size, photo or file",
        "cmd_help": "What I can do",
        "cmd_forget": "Erase everything stored about you",
        "job_stopped": "The bot was stopped before your picture was finished. Please send it again once the bot is back.",
        # The famous paintings
        "btn_paintings": "🖼 Famous paintings",
        "paintings_gallery": "Pick a painting to lend your photo its style, or send a picture of your own:",
        "painting_caption": "{title} — {artist}, {year}",
        "painting_chosen": "Painting: {painting}",
        "result_details_painting": "{painting}, {quality}, {size} px, strength {strength}, {colors}.",
        # The style pictures sent recently
        "ask_style_recent": "Got the photo. Now send the picture whose style I should copy, or take one you used recently (1 is the latest).",
        "btn_recent_style": "🕘 Recent {n}",
        "ask_style_again": "Same photo, another style: send the picture whose style I should copy.",
        "ask_style_again_recent": (
            "Same photo, another style: send the picture whose style I should copy, or take one you used recently "
            "(1 is the latest)."
        ),
        # Two styles mixed
        "btn_mix": "➕ Mix with another style",
        "btn_unmix": "✖️ Drop the mix",
        "btn_back_to_options": "⬅️ Back to the options",
        "ask_mix_style": "Send the second style picture, or take one below. Then you'll choose how much of each goes into the mix.",
        "mix_ratio_ask": "Mixing {first} with {second}. How much of each (first / second)?",
        "mix_chosen": "Mixed with {second}, {ratio}",
        "style_yours": "your style",
        "style_yours_second": "your second style",
        "painting_name": "{title}",
        "result_details_mix": "{first} + {second} ({ratio}), {quality}, {size} px, strength {strength}, {colors}.",
        "result_caption_mix": "{first} + {second} ({ratio})",
        # The preview strip
        "btn_preview": "👀 Preview",
        "preview_coming": "A preview of three strengths is on its way…",
        "preview_caption": "Your photo at three strengths. Tap the one you like, then ▶️ Start.",
        "preview_failed": "Sorry, I couldn't make the preview. ▶️ Start still works.",
        "preview_unavailable": "The preview isn't available right now.",
    },
    "ru": {
        "start": (
            "Привет, {name}! Я превращаю фотографии в картины.\n\n"
            "• Свой стиль: пришлите фото и любую картинку, стиль которой вам нравится.{presets}\n\n"
            "/help — что я умею."
        ),
        "start_presets": "\n• Готовые стили за секунды: {presets}.",
        "help": (
            "{intro}\n"
            "• Свой стиль: пришлите фото, а затем любую картинку, в стиле которой его перерисовать.{presets}\n"
            "• Альбом: пришлите обе картинки сразу — первая станет фото, вторая задаст стиль.\n"
            "• Файлы: картинки, присланные файлом, не теряют в качестве; результат тоже можно получать файлом — "
            "загляните в /settings.\n\n"
            "/start — главное меню{styles}\n"
            "/cancel — остановить текущее действие\n"
            "/settings — язык, размер, фото или файл\n"
            "/forget — удалить всё, что я о вас храню\n"
            "/help — это сообщение\n\n"
            "Фотографии обрабатываются в памяти и нигде не сохраняются."
        ),
        "help_intro": "Я перерисовываю фотографии двумя способами:",
        "help_intro_own": "Вот что я умею:",
        "help_presets": "\n• Готовые стили: выберите стиль и пришлите фото — результат будет готов за секунды.",
        "help_styles": "\n/styles — галерея готовых стилей",
        "btn_nst": "🎨 Свой стиль",
        "btn_presets": "🖼 Готовые стили",
        "btn_settings": "⚙️ Настройки",
        "btn_help": "❓ Помощь",
        "btn_use_own_style": "🎨 Стиль с моей картинки",
        "btn_apply_preset": "🖼 Выбрать готовый стиль",
        "photo_first": "Отличное фото! Что с ним сделать?",
        "album_choice": "Получил две картинки: первая — ваше фото, вторая может стать его стилем. Что сделать?",
        "help_unavailable": "Пока недоступно: {what}. Чтобы это заработало, выполните команду: {command}",
        "quality_best_name": "высокое качество",
        "quality_quick_name": "быстрое качество",
        "already_started": "Уже в работе.",
        "result_expired": "Эта картинка слишком старая, её у меня уже нет. Пришлите её ещё раз.",
        "btn_start": "▶️ Старт",
        "btn_cancel": "✖️ Отмена",
        "btn_cancel_job": "✖️ Отменить",
        "ask_content": "Пришлите фото, которое нужно перерисовать (можно и файлом). Или сразу альбом: сначала фото, потом картинку со стилем.",
        "ask_style": "Фото получил. Теперь пришлите картинку, в стиле которой его перерисовать.",
        "album_first": "Получил первую картинку альбома, жду вторую.",
        "album_got": "Получил альбом, секунду…",
        "album_too_big": "В альбоме больше двух картинок. Пришлите фото и картинку со стилем — не больше двух.",
        "one_at_a_time": "По одной картинке, пожалуйста: я взял первую.",
        "gallery": "Выберите стиль:",
        "no_presets": "Готовых стилей здесь пока нет.",
        "ask_preset_photo": "Стиль «{preset}». Пришлите фото, которое нужно перерисовать.",
        "nst_options": "Настройте результат:\n• размер: {size} пикс. по длинной стороне\n• стилизация: {strength}\n• цвета: {colors}\n• качество: {quality}\n\nКогда всё устроит, нажмите ▶️ Старт.",
        "preset_options": "Стиль «{preset}».\n• стилизация: {strength}\n\nНажмите ▶️ Старт.",
        "opt_size": "📐 Размер: {size} ▸",
        "opt_strength": "💪 Стилизация: {strength} ▸",
        "opt_colors_on": "✓ Цвета фото",
        "opt_colors_off": "☐ Цвета фото",
        "opt_quality": "⚡ Качество: {quality} ▸",
        "strength_low": "лёгкая",
        "strength_mid": "средняя",
        "strength_high": "полная",
        "quality_quick": "быстрое",
        "quality_best": "высокое",
        "yes": "как на фото",
        "no": "как у стиля",
        "job_queued": "Ваша картинка в очереди…",
        "job_busy": "Предыдущая картинка ещё готовится ({status}). Дождитесь её или отмените.",
        "job_status_queued": "в очереди",
        "job_status_running": "в работе",
        "job_cancelled": "Отменил: эту картинку рисовать не буду. /start — меню.",
        "job_start_failed": "Не получилось взяться за картинку. Нажмите ▶️ Старт ещё раз чуть позже.",
        "cancelled": "Отменено. /start — меню.",
        "nothing_to_cancel": "Отменять нечего. /start — меню.",
        "settings": "Настройки:\n• язык: {lang_name}\n• размер результата: {size} пикс.\n• результат: {output}",
        "set_lang": "🌐 Язык: {lang_name} ▸",
        "set_output": "📨 Результат: {output} ▸",
        "output_photo": "фото",
        "output_file": "файл PNG",
        "language_name": "русский",
        "forgotten": "Готово: я удалил всё, что хранил о вас. /start — меню.",
        "unknown_command": "Не знаю такой команды. /help — что я умею.",
        "expect_picture": "Здесь нужна картинка: пришлите фото или файл с изображением, или /cancel.",
        "use_buttons": "Воспользуйтесь кнопками выше или /cancel.",
        "idle_text": "Я работаю с картинками. /start — меню.",
        "not_expecting_picture": "Картинку я сейчас не жду. Воспользуйтесь кнопками выше или /cancel.",
        "bad_sticker": "Это стикер. Мне нужно фото или файл с изображением.",
        "bad_voice": "Голосовые и аудио я не слушаю. Пришлите фото или файл с изображением.",
        "bad_video": "С видео я не работаю. Пришлите фото или файл с изображением.",
        "bad_animation": "С GIF и анимацией я не работаю. Пришлите обычное фото или изображение.",
        "bad_location": "Геопозиция — не картинка. Пришлите фото или файл с изображением.",
        "bad_contact": "Контакт — не картинка. Пришлите фото или файл с изображением.",
        "bad_other": "С этим я не умею работать. Пришлите фото или файл с изображением.",
        "bad_not_image": "Этот файл — не изображение. Пришлите JPEG, PNG или WebP.",
        "bad_too_big": "Файл больше 20 МБ, а такие Telegram не даёт скачивать ботам. Пришлите файл поменьше или отправьте его как фото.",
        "bad_corrupt": "Не получилось прочитать изображение: похоже, файл повреждён или неполный. Пришлите другое.",
        "bad_too_many_pixels": "Изображение слишком большое ({megapixels} Мпикс.). Пришлите до {limit} Мпикс.",
        "bad_unsupported_format": "Не умею читать этот формат. Пришлите JPEG, PNG или WebP.",
        "bad_picture": "Эта картинка не подойдёт: {reason}. Пришлите другую.",
        "group_chat": "Я работаю только в личных чатах: напишите мне лично, и я перерисую ваши фото.",
        "edited": "Исправленные сообщения я не читаю: пришлите новое.",
        "flood": "Слишком много сообщений сразу. Подождите несколько секунд и попробуйте снова.",
        "outdated": "Это меню устарело.",
        "progress": "{title}\n{bar} {percent}%{eta}",
        "progress_eta": " · осталось около {seconds} с",
        "progress_eta_minutes": " · осталось около {minutes} мин",
        "progress_title_nst": "🎨 Перерисовываю фото в выбранном стиле…",
        "progress_title_preset": "🖼 Применяю стиль «{preset}»…",
        "progress_starting": "🎨 Начинаю…",
        "result_summary": "✅ Готово за {seconds} с: {details}",
        "result_details_nst": "ваш стиль, {quality} качество, {size} пикс., {strength} стилизация, {colors}.",
        "result_details_preset": "«{preset}», {size} пикс., {strength} стилизация.",
        "colors_kept": "цвета фото сохранены",
        "colors_styled": "цвета как у стиля",
        "result_file": "PNG, {width}×{height} пикс.",
        "btn_again_style": "🔁 Другой стиль",
        "btn_again_options": "🎚 Другие настройки",
        "job_failed_image": "Одна из картинок не подошла: {reason}. Пришлите другую.",
        "job_failed_photo": "Фото не подошло: {reason}. Пришлите другое.",
        "job_failed_style": "Картинка со стилем не подошла: {reason}. Пришлите другую.",
        "reason_corrupt": "похоже, файл повреждён или неполный",
        "reason_unsupported_format": "это не JPEG, PNG или WebP",
        "reason_too_many_pixels": "больше {limit} Мпикс.",
        "reason_empty": "файл пустой",
        "reason_too_small": "всего {width}×{height} пикс., а нужно не меньше {min_side} пикс. по каждой стороне",
        "reason_too_narrow": "{width}×{height} пикс. — слишком узко: длинная сторона может превышать короткую не более чем в {ratio} раз",
        "job_failed_timeout": "Это заняло слишком много времени, пришлось остановиться. Попробуйте размер поменьше или быстрое качество.",
        "job_failed": "Извините, не получилось закончить картинку. Попробуйте ещё раз.",
        "job_too_late": "Картинка уже в пути.",
        "error": "Извините, у меня что-то сломалось. Попробуйте ещё раз чуть позже.",
        "quota_kind_quick": "картинки в быстром качестве",
        "quota_kind_best": "картинки в высоком качестве",
        "quota_kind_preset": "картинки с готовыми стилями",
        "quota_reached": (
            "На сегодня лимит на {kind} исчерпан: не больше {limit} в день. Он обновится через {hours} ч "
            "{minutes} мин, в {reset}."
        ),
        "quota_quick_left": "Быстрое качество по-прежнему доступно: нажмите ▶️ Старт.",
        "budget_best_paused": "⏸ Высокое качество недоступно до {reset}: дневной бюджет бота почти израсходован. Быстрое работает как обычно.",
        "budget_quick_only": "⏸ До {reset} работает только «Свой стиль» в быстром качестве: дневной бюджет бота израсходован.",
        "opt_quality_paused": "⚡ Качество: быстрое ⏸",
        "job_waiting": "⏳ Очередь: перед вами ещё {ahead}.",
        "picture_one": "{n} картинка",
        "picture_few": "{n} картинки",
        "picture_many": "{n} картинок",
        "job_expired": (
            "Извините, очередь была такой длинной, что ваша картинка прождала больше {minutes} минут, и я её "
            "отменил. Попробуйте ещё раз чуть позже. /start — меню."
        ),
        "stats_today": "📊 Сегодня, {day} (UTC)",
        "stats_week": "📈 Последние {days} дней",
        "stats_jobs": "Задачи — {counts}",
        "stats_done": "готово",
        "stats_failed": "ошибок",
        "stats_cancelled": "отменено",
        "stats_seconds": "Время задачи p50/p95, с — {values}",
        "stats_wait": "Ожидание в очереди p50/p95: {p50}/{p95} с",
        "stats_refusals": "Отказы по лимиту — {values}",
        "stats_budget": "Бюджет: израсходовано {used} из {budget} с работы воркеров{share}",
        "stats_cost": "Оценка стоимости: ${cost} ({gb_seconds} ГБ·с × ${price} за ГБ·с)",
        "cmd_start": "Главное меню",
        "cmd_styles": "Готовые стили",
        "cmd_cancel": "Остановить текущее действие",
        "cmd_settings": "Язык, размер, фото или файл",
        "cmd_help": "Что я умею",
        "cmd_forget": "Удалить всё, что я о вас храню",
        "job_stopped": "Бота остановили, и картинка не успела дорисоваться. Пришлите её ещё раз, когда бот снова заработает.",
        # The famous paintings
        "btn_paintings": "🖼 Знаменитые картины",
        "paintings_gallery": "Выберите картину, в стиле которой перерисовать фото, или пришлите свою:",
        "painting_caption": "«{title}» — {artist}, {year}",
        "painting_chosen": "Картина: {painting}",
        "result_details_painting": "«{painting}», {quality} качество, {size} пикс., {strength} стилизация, {colors}.",
        # The style pictures sent recently
        "ask_style_recent": "Фото получил. Теперь пришлите картинку, в стиле которой его перерисовать, или возьмите одну из недавних (1 — самая последняя).",
        "btn_recent_style": "🕘 Недавняя {n}",
        "ask_style_again": "Фото то же, стиль другой: пришлите картинку, в стиле которой его перерисовать.",
        "ask_style_again_recent": (
            "Фото то же, стиль другой: пришлите картинку, в стиле которой его перерисовать, или возьмите одну "
            "из недавних (1 — самая последняя)."
        ),
        # Two styles mixed
        "btn_mix": "➕ Смешать с другим стилем",
        "btn_unmix": "✖️ Не смешивать",
        "btn_back_to_options": "⬅️ К настройкам",
        "ask_mix_style": "Пришлите вторую картинку со стилем или выберите её ниже. Потом решите, сколько взять от каждой.",
        "mix_ratio_ask": "Смешиваю {first} и {second}. Сколько взять от каждого (первый / второй)?",
        "mix_chosen": "Второй стиль: {second}, пропорция {ratio}",
        "style_yours": "ваш стиль",
        "style_yours_second": "ваш второй стиль",
        "painting_name": "«{title}»",
        "result_details_mix": "{first} + {second} ({ratio}), {quality} качество, {size} пикс., {strength} стилизация, {colors}.",
        "result_caption_mix": "{first} + {second} ({ratio})",
        # The preview strip
        "btn_preview": "👀 Предпросмотр",
        "preview_coming": "Сейчас пришлю три варианта стилизации…",
        "preview_caption": "Ваше фото с тремя степенями стилизации. Выберите понравившуюся и нажмите ▶️ Старт.",
        "preview_failed": "Не получилось сделать предпросмотр, но ▶️ Старт работает как обычно.",
        "preview_unavailable": "Предпросмотр сейчас недоступен.",
    },
}


def language_of(language_code: str | None) -> Language:
    """The language to answer in, from Telegram's `language_code` (e.g. "ru", "ru-RU", "en-GB")."""
    code = (language_code or "").split("-")[0].lower()
    return Language(code) if code in tuple(Language) else DEFAULT_LANGUAGE


def text(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` (English where a translation is missing), with `values` filled in."""
    template = TEXTS.get(language, {}).get(key) or TEXTS[DEFAULT_LANGUAGE][key]
    return template.format(**values)


def pictures(n: int, language: str) -> str:
    """ "N pictures" with the noun in the form the number takes (Russian has three)."""
    if language == Language.RU:
        if n % 10 == 1 and n % 100 != 11:
            form = "one"
        elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
            form = "few"
        else:
            form = "many"
    else:
        form = "one" if n == 1 else "many"
    return text(f"picture_{form}", language, n=n)


def help_text(language: str, *, presets: bool = True) -> str:
    """/help: the ways to restyle that this deployment offers (the presets only where one can run), and the
    commands that go with them."""
    return text(
        "help",
        language,
        intro=text("help_intro" if presets else "help_intro_own", language),
        presets=text("help_presets", language) if presets else "",
        styles=text("help_styles", language) if presets else "",
    )
