import subprocess
import sys
from pathlib import Path

import pytest

from guide_server.content.markdown import slugify
from guide_server.content.rules import ContentError
from guide_server.search.faq import load_content, parse_faq
from tests.support import FAQ_EN, FAQ_JA, FAQ_PLANS, ROOT, write_content


def parse(text: str, rel: str = "ja/x/y.md"):
    return parse_faq(text.encode("utf-8"), rel)


def error_of(text: str, rel: str = "ja/x/y.md") -> ContentError:
    with pytest.raises(ContentError) as info:
        parse(text, rel)
    return info.value


def test_front_matter_fields_and_derived_id():
    faq = parse(FAQ_JA, "ja/invoices/send-email.md")
    assert faq.id == "ja-invoices-send-email"
    assert faq.locale == "ja"
    assert faq.title == "請求書をメールで送付するには？"
    assert faq.questions == ["請求書をメールで送りたい"]
    assert faq.related == ["ja-billing-plans"]
    assert faq.sites is None


def test_sections_get_stable_anchors():
    faq = parse(FAQ_JA)
    assert [s.anchor for s in faq.sections] == [None, "手順"]
    assert '<h2 id="手順">' in faq.html
    twice = parse("---\ntitle: t\n---\n## Steps\na\n## Steps\nb\n", "en/a.md")
    assert [s.anchor for s in twice.sections] == ["steps", "steps-2"]
    assert slugify("Step 2: Invite users!") == "step-2-invite-users"


def test_raw_html_and_javascript_links_never_reach_the_page():
    faq = parse("---\ntitle: t\n---\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
                "<img src=x onerror=alert(1)> [ok](https://example.com)\n", "en/a.md")
    html = faq.html.lower()
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html  # raw HTML stays text, escaped
    assert 'href="https://example.com"' in faq.html


@pytest.mark.parametrize("text, line, words", [
    ("---\ntitle: [unclosed\n---\nbody\n", 2, "bad YAML"),
    ("---\ncategory: a\n---\nbody\n", 1, "missing 'title'"),
    ("---\ntitle: t\n---\n\n  \n", 4, "empty body"),
    ("---\ntitle: t\nlocale: fr\n---\nbody\n", 3, "unknown locale"),
    ("no front matter\n", 1, "missing YAML front matter"),
    ("---\ntitle: t\ncolour: red\n---\nbody\n", 3, "unknown field"),
    ("---\ntitle: t\nquestions: {a: 1}\n---\nbody\n", 3, "must be a list"),
])
def test_validation_errors_point_at_file_and_line(text, line, words):
    err = error_of(text, "ja/x/y.md" if "locale: fr" not in text else "x.md")
    assert err.line == line
    assert words in err.message
    assert str(err).startswith(f"{err.path}:{line}: ")


def test_locale_comes_from_the_folder_and_must_be_known():
    assert parse(FAQ_EN.replace("category", "category"), "en/security/p.md").locale == "en"
    assert "unknown locale" in error_of("---\ntitle: t\n---\nbody\n", "misc/p.md").message


def test_duplicate_ids_and_dangling_related(tmp_path):
    root = write_content(tmp_path, {
        "ja/a.md": "---\nid: same\ntitle: a\n---\nbody\n",
        "ja/b.md": "---\nid: same\ntitle: b\nrelated: [nowhere]\n---\nbody\n",
    })
    faqs, errors = load_content(root / "faq")
    messages = sorted(str(e) for e in errors)
    assert any("duplicate id 'same'" in m and m.startswith("ja/b.md:2:") for m in messages)
    assert any("'nowhere'" in m and m.startswith("ja/b.md:4:") for m in messages)


def test_drafts_and_readme_are_not_content(tmp_path):
    root = write_content(tmp_path, {
        "ja/a.md": FAQ_PLANS,
        "ja/drafts/new.md": "---\ntitle: draft\n---\nwip\n",
        "ja/README.md": "# notes",
    })
    faqs, errors = load_content(root / "faq")
    assert [f.id for f in faqs] == ["ja-a"] and not errors


def test_check_cli_exit_codes(tmp_path, small_content):
    ok = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "--check", "--content", str(small_content)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "3 FAQ(s) checked, 0 error(s)" in ok.stdout
    (small_content / "faq/ja/broken.md").write_text("---\ntitle: [x\n---\nbody\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, str(ROOT / "index_builder.py"), "--check", "--content", str(small_content)],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert "ja/broken.md:2: bad YAML" in bad.stderr


def test_sample_content_is_valid_and_large_enough():
    faqs, errors = load_content(ROOT / "content" / "faq")
    assert not errors, [str(e) for e in errors[:5]]
    ja = [f for f in faqs if f.locale == "ja"]
    en = [f for f in faqs if f.locale == "en"]
    assert len(ja) >= 60 and len(en) >= 40
    assert len({f.category for f in ja}) >= 8 and len({f.category for f in en}) >= 8


def test_not_utf8_is_an_error():
    with pytest.raises(ContentError, match="not UTF-8"):
        parse_faq(b"---\ntitle: \xff\xfe\n---\nbody", "ja/a.md")


def test_paths_are_relative(tmp_path):
    root = write_content(tmp_path, {"en/deep/er/file.md": FAQ_EN})
    faqs, _ = load_content(root / "faq")
    assert faqs[0].path == "en/deep/er/file.md" and faqs[0].id == "en-deep-er-file"
    assert isinstance(Path(faqs[0].path), Path)
