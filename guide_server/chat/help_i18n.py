"""The help centre's words in Japanese and English: ``key: (ja, en)``; ``{name}`` fields are filled in."""

from __future__ import annotations

LANGS = ("ja", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "site.name": ("ヘルプセンター", "Help center"),
    "skip": ("本文へ移動", "Skip to content"),
    "lang.label": ("表示言語", "Language"),
    "lang.switch": ("English", "日本語"),
    "lang.article": ("この記事の英語版", "この記事の日本語版"),
    "home.lead": ("知りたいことを入力して検索するか、カテゴリから記事を探してください。",
                  "Type a question to search, or browse the articles by category."),
    "home.categories": ("カテゴリ", "Categories"),
    "home.empty": ("公開されている記事はまだありません。", "No articles have been published yet."),
    "search.label": ("ヘルプ記事を検索", "Search the help articles"),
    "search.placeholder": ("例: 請求書をメールで送りたい", "e.g. How do I email an invoice?"),
    "search.submit": ("検索", "Search"),
    "search.title": ("「{q}」の検索結果", "Results for “{q}”"),
    "search.title.empty": ("記事を検索", "Search the articles"),
    "search.prompt": ("検索したい言葉や質問を入力してください。", "Type a word or a question to search for."),
    "search.count": ("{n}件の記事が見つかりました。", "{n} article(s) found."),
    "search.none": ("「{q}」に一致する記事は見つかりませんでした。",
                    "No article matches “{q}”."),
    "search.none.hint": ("言葉を変えて検索するか、カテゴリから記事を探してください。",
                         "Try other words, or browse the articles by category."),
    "search.shortened": ("質問が長すぎるため、先頭の{n}文字で検索しました。",
                         "The question was too long: its first {n} characters were searched."),
    "search.other_lang": ("英語の記事", "Articles in Japanese"),
    "back.categories": ("カテゴリ一覧へ戻る", "Back to the categories"),
    "category.count": ("{n}件の記事", "{n} article(s)"),
    "category.all": ("すべての記事を見る（{n}件）", "See all {n} articles"),
    "category.other": ("その他", "Other"),
    "article.toc": ("この記事の内容", "In this article"),
    "article.related": ("関連する記事", "Related articles"),
    "breadcrumb": ("現在の位置", "Breadcrumb"),
    "notfound.title": ("ページが見つかりません", "Page not found"),
    "notfound.text": ("お探しの記事は見つかりませんでした。削除されたか、URLが間違っている可能性があります。",
                      "The article you are looking for was not found. It may have been removed, or the address may be wrong."),
    # The sample help center's categories ("cat:" and the name in the FAQs' front matter); any
    # other category is shown by its own name.
    "cat:api": ("API連携", "API"),
    "cat:approval": ("承認フロー", "Approvals"),
    "cat:billing": ("料金・お支払い", "Plans and billing"),
    "cat:cancellation": ("解約・休止", "Cancellation"),
    "cat:export": ("データ出力・会計連携", "Export and accounting"),
    "cat:invoice-system": ("インボイス制度", "Qualified invoice system"),
    "cat:invoices": ("請求書の作成・送付", "Invoices"),
    "cat:notifications": ("通知", "Notifications"),
    "cat:partners": ("取引先", "Partners"),
    "cat:receiving": ("請求書の受け取り", "Receiving invoices"),
    "cat:security": ("セキュリティ・ログイン", "Security and sign-in"),
    "cat:users": ("ユーザー・権限", "Users and roles"),
}

# the categories with a label, in the order the home page shows them
LABELLED_CATEGORIES = [key.removeprefix("cat:") for key in STRINGS if key.startswith("cat:")]


def translate(lang: str, key: str, **fields: object) -> str:
    """``key`` in ``lang`` (Japanese for any other language), with its ``{name}`` fields filled in."""
    ja, en = STRINGS[key]
    text = en if lang == "en" else ja
    return text.format(**fields) if fields else text


def category_label(lang: str, name: str) -> str:
    """A category's name for people: its label when it has one, else the name as written in the FAQs."""
    if not name:
        return translate(lang, "category.other")
    key = "cat:" + name
    return translate(lang, key) if key in STRINGS else name
