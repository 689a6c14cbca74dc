"""The words of the demo site's chrome in its three languages (English, Russian, Kazakh).

`<html lang>` and the switcher's names come from the site's Language data, not from here.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "og_locale": "en_US",
        "tagline": "Kazakhstan Institute for Strategic Studies under the President of the Republic of Kazakhstan",
        "home": "Home", "recent": "Recent Posts", "archives": "Archives", "views": "Views",
        "search": "Search", "search_for": "Search for:", "newsletter": "Newsletter",
        "email": "Your e-mail", "subscribe": "Subscribe", "leave": "Leave a Reply",
        "comment": "Comment", "post_comment": "Post Comment", "says": "says:",
        "thoughts": "One thought on &ldquo;{}&rdquo;", "posts_nav": "Posts navigation",
        "next": "Next", "prev": "Previous", "nothing": "Nothing Found",
        "nothing_text": "It seems we can&rsquo;t find what you&rsquo;re looking for.",
        "not_found_title": "Page not found",
        "not_found": "Oops! That page can&rsquo;t be found.",
        "not_found_text": "It looks like nothing was found at this location. Maybe try a search?",
        "category": "Category: {}", "tag": "Tag: {}", "author": "Author: {}", "month": "Month: {}",
        "year": "Year: {}", "comment_text": "Thank you for the detailed report. Will the presentations of the speakers be published?",
        "copyright": "&copy; {} KazISS. All rights reserved.", "feed": "Feed",
    },
    "ru": {
        "og_locale": "ru_RU",
        "tagline": "Казахстанский институт стратегических исследований при Президенте Республики Казахстан",
        "home": "Главная", "recent": "Свежие записи", "archives": "Архивы", "views": "Просмотры",
        "search": "Найти", "search_for": "Найти:", "newsletter": "Рассылка",
        "email": "Ваш e-mail", "subscribe": "Подписаться", "leave": "Добавить комментарий",
        "comment": "Комментарий", "post_comment": "Отправить комментарий", "says": "пишет:",
        "thoughts": "Один комментарий к &laquo;{}&raquo;", "posts_nav": "Навигация по записям",
        "next": "Далее", "prev": "Назад", "nothing": "Ничего не найдено",
        "nothing_text": "По вашему запросу ничего не найдено.",
        "not_found_title": "Страница не найдена",
        "not_found": "Упс! Эта страница не найдена.",
        "not_found_text": "Похоже, здесь ничего нет. Попробуйте воспользоваться поиском.",
        "category": "Рубрика: {}", "tag": "Метка: {}", "author": "Автор: {}", "month": "Месяц: {}",
        "year": "Год: {}", "comment_text": "Спасибо за подробный отчёт. Будут ли опубликованы презентации выступающих?",
        "copyright": "&copy; {} КИСИ. Все права защищены.", "feed": "Лента",
    },
    "kk": {
        "og_locale": "kk_KZ",  # Polylang's facebook locale for kk
        "tagline": "Қазақстан Республикасының Президенті жанындағы Қазақстан стратегиялық зерттеулер институты",
        "home": "Басты бет", "recent": "Соңғы жазбалар", "archives": "Мұрағат", "views": "Қаралымдар",
        "search": "Іздеу", "search_for": "Іздеу:", "newsletter": "Жаңалықтар таратылымы",
        "email": "E-mail", "subscribe": "Жазылу", "leave": "Пікір қалдыру",
        "comment": "Пікір", "post_comment": "Пікірді жіберу", "says": "жазады:",
        "thoughts": "&laquo;{}&raquo; жазбасына бір пікір", "posts_nav": "Жазбалар навигациясы",
        "next": "Келесі", "prev": "Алдыңғы", "nothing": "Ештеңе табылмады",
        "nothing_text": "Сұрауыңыз бойынша ештеңе табылмады.",
        "not_found_title": "Бет табылмады",
        "not_found": "Бұл бет табылмады.",
        "not_found_text": "Бұл мекенжайда ештеңе жоқ сияқты. Іздеуді қолданып көріңіз.",
        "category": "Санат: {}", "tag": "Белгі: {}", "author": "Автор: {}", "month": "Ай: {}",
        "year": "Жыл: {}", "comment_text": "Толық есеп үшін рахмет!",
        "copyright": "&copy; {} ҚСЗИ. Барлық құқықтар қорғалған.", "feed": "Арна",
    },
}

MONTHS: dict[str, list[str]] = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
    "ru": ["Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август",
           "Сентябрь", "Октябрь", "Ноябрь", "Декабрь"],
    "kk": ["Қаңтар", "Ақпан", "Наурыз", "Сәуір", "Мамыр", "Маусым", "Шілде", "Тамыз",
           "Қыркүйек", "Қазан", "Қараша", "Желтоқсан"],
}

COMMENTERS = ["Aidos K.", "Madina S.", "Yerlan T.", "Gulnara B.", "Timur A."]

# What WPML's switcher prints after a native name: the language's name in the page's language.
_NAMES_IN: dict[str, dict[str, str]] = {
    "en": {"en": "English", "ru": "Russian", "kk": "Kazakh"},
    "ru": {"en": "Английский", "ru": "Русский", "kk": "Казахский"},
    "kk": {"en": "Ағылшын тілі", "ru": "Орыс тілі", "kk": "Қазақ тілі"},
}


def language_name_in(viewer: str, code: str) -> str:
    return _NAMES_IN.get(viewer, _NAMES_IN["en"]).get(code, code)
