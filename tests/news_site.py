"""An invented Vietnamese news site served on 127.0.0.1 for the web-archive tests.

Article pages come with what real ones carry around the text (menu, breadcrumb, ads, a photo
with caption and credit, share bar, tags, related and most-read lists, footer); the site also
has an RSS feed, an Atom feed, a news sitemap, a sitemap index, robots.txt, and pages that fail
in every way the fetcher must report (404, slow, redirect loop, oversize, PDF, bad charset).
Run ``python -m tests.news_site`` to serve it by hand (prints the base URL).
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SITE = "Báo Sông Cầu"
SLOW_S = 3.0
HUGE_BYTES = 6 * 1024 * 1024
_TONES = "\u0300\u0301\u0303\u0309\u0323"


@dataclass(frozen=True)
class Story:
    """An invented article: what the fetched article must contain, and nothing else."""

    path: str
    title: str
    date: str
    paragraphs: tuple[str, ...]
    caption: str = ""


BRIDGE = Story(
    "/thoi-su/khanh-thanh-cau-ben-tuong.html",
    "Khánh thành cầu Bến Tượng mới nối đôi bờ sông Cầu",
    "2024-05-12",
    (
        "Sáng 12/5, UBND tỉnh Thái Nguyên tổ chức lễ khánh thành cầu Bến Tượng mới, công trình "
        "giao thông trọng điểm nối phường Đồng Bẩm với xã Cao Ngạn.",
        "Cầu dài 312&nbsp;m, rộng 21&nbsp;m, gồm 4 làn xe cơ giới và 2 làn đường bộ hành, được "
        "xây dựng trong 26 tháng với tổng mức đầu tư hơn 420 tỷ đồng từ ngân sách tỉnh.",
        "Phát biểu tại buổi lễ, ông Trịnh Việt Hùng, Chủ tịch UBND tỉnh, cho biết cây cầu sẽ rút "
        "ngắn thời gian đi lại giữa hai bờ sông từ 25 phút xuống còn 5 phút.",
        "Hệ thống chiếu sáng trang trí sử dụng đèn LED tiết kiệm điện &amp; đổi màu theo các dịp "
        "lễ, tết.",
        "&quot;Trước đây muốn sang chợ Thái phải đi vòng gần 8 cây số, nay chỉ mất vài "
        "phút&quot;, bà Nguyễn Thị Lan ở xã Cao Ngạn chia sẻ.",
    ),
    "Cầu Bến Tượng mới nhìn từ trên cao.",
)
TEA = Story(
    "/kinh-te/che-tan-cuong-xuat-khau-chau-au.html",
    "Chè Tân Cương lần đầu xuất khẩu chính ngạch sang châu Âu",
    "2024-05-14",
    (
        "Hợp tác xã chè Hảo Đạt vừa xuất khẩu lô chè Tân Cương đầu tiên gồm 2,5 tấn chè xanh "
        "đặc sản sang thị trường Đức và Hà Lan.",
        "Để đáp ứng tiêu chuẩn của Liên minh châu Âu, hợp tác xã đã chuyển 30 ha chè sang canh "
        "tác hữu cơ, không dùng thuốc bảo vệ thực vật hóa học suốt ba năm.",
        "Giá bán mỗi kilôgam chè xuất khẩu đạt khoảng 1,2 triệu đồng, cao gấp đôi giá bán "
        "trong nước.",
    ),
    "Thu hái chè ở vùng chè Tân Cương.",
)
BUCKWHEAT = Story(
    "/du-lich/ha-giang-mua-tam-giac-mach.html",
    "Hà Giang đón 50.000 lượt khách mùa hoa tam giác mạch",
    "2024-10-20",
    (
        "Trong tháng 10, các huyện Đồng Văn, Mèo Vạc, Quản Bạ đón khoảng 50.000 lượt khách đến "
        "ngắm hoa tam giác mạch, tăng 20% so với cùng kỳ năm trước.",
        "Nhiều hộ dân trồng hoa tam giác mạch xen canh trên nương ngô để phục vụ du khách, thu "
        "phí chụp ảnh từ 20.000 đến 30.000 đồng mỗi lượt.",
    ),
)
BOAT_RACE = Story(
    "/van-hoa/soc-trang-dua-ghe-ngo.html",
    "Sóc Trăng: lễ hội đua ghe ngo thu hút hàng chục nghìn người",
    "2024-11-15",
    (
        "Giải đua ghe ngo năm nay có 58 đội tham gia, mỗi ghe dài khoảng 25 mét với hơn 50 tay "
        "chèo, thi đấu trên sông Maspero ở trung tâm thành phố Sóc Trăng.",
        "Lễ hội gắn với lễ Oóc Om Bóc của đồng bào Khmer, là dịp tạ ơn thần Mặt Trăng đã mang "
        "lại mùa màng bội thu.",
    ),
)
STORIES = (BRIDGE, TEA, BUCKWHEAT, BOAT_RACE)


def shown(paragraph: str) -> str:
    """A paragraph as the reader sees it (entities decoded, NBSP as a space)."""
    return " ".join(html.unescape(paragraph).split())


def news_page(story: Story, base_url: str, charset: str = "utf-8") -> str:
    """The full HTML page of ``story`` with everything a real news page has around the text."""
    paragraphs = [f"<p>{p}</p>" for p in story.paragraphs]
    figure = (
        f'<figure class="image"><img src="/anh/1.jpg" alt=""><figcaption>{story.caption} '
        "Ảnh: Minh Anh</figcaption></figure>"
        if story.caption
        else ""
    )
    paragraphs.insert(2, figure + '<div class="ads">Quảng cáo: Căn hộ view sông từ 1,2 tỷ</div>')
    return f"""<!DOCTYPE html><html lang="vi"><head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{story.title} - {SITE} điện tử</title>
<meta property="og:site_name" content="{SITE}">
<meta property="og:title" content="{story.title}">
<meta property="article:published_time" content="{story.date}T08:30:00+07:00">
<meta name="author" content="Minh Anh">
<link rel="canonical" href="{base_url}{story.path}">
</head><body>
<header><nav><ul><li><a href="/">Trang chủ</a></li><li><a href="/thoi-su">Thời sự</a></li>
<li><a href="/kinh-te">Kinh tế</a></li><li><a href="/du-lich">Du lịch</a></li></ul></nav>
<div class="ads banner-top">Quảng cáo: Vay tiêu dùng lãi suất 0%, đăng ký ngay hôm nay!</div>
</header><main>
<div class="breadcrumb"><a href="/">Trang chủ</a> / <a href="/thoi-su">Thời sự</a></div>
<article class="detail"><h1 class="title">{story.title}</h1>
<div class="meta"><span class="author">Minh Anh</span> ·
<time datetime="{story.date}T08:30:00+07:00">{story.date}</time></div>
{"".join(paragraphs)}
<p class="credit">Ảnh: Minh Anh</p>
<div class="share">Chia sẻ: Facebook · Zalo · Sao chép liên kết</div>
<div class="tags">Từ khóa: <a href="/tag/thai-nguyen">Thái Nguyên</a></div>
</article>
<section class="related"><h3>Tin liên quan</h3><ul>
<li><a href="/thoi-su/khoi-cong-vanh-dai-5.html">
Khởi công đường vành đai 5 qua Thái Nguyên</a></li>
<li><a href="/kinh-te/gia-dat-ven-song.html">
Giá đất ven sông Cầu tăng mạnh sau khi có cầu mới</a></li>
</ul></section></main>
<aside class="most-read"><h3>Đọc nhiều</h3><ol><li><a href="/a">Giá vàng hôm nay tăng mạnh</a></li>
<li><a href="/b">Lịch cắt điện tuần tới</a></li></ol></aside>
<footer><p>© 2024 {SITE} điện tử. Giấy phép số 123/GP-BTTTT. Địa chỉ: 10 Hoàng Văn Thụ.</p>
</footer></body></html>"""


def to_windows_1258(text: str) -> bytes:
    """Encode as Windows-1258: letters it lacks precomposed get their tone mark combined."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        shape = "".join(m for m in parts[1:] if m not in _TONES)
        tone = "".join(m for m in parts[1:] if m in _TONES)
        out += (unicodedata.normalize("NFC", parts[0] + shape) + tone).encode("cp1258")
    return bytes(out)


def rss(base: str, stories: tuple[Story, ...]) -> str:
    items = "".join(
        f"<item><title>{s.title}</title><link>{base}{s.path}</link>"
        f"<pubDate>{s.date}T08:30:00+07:00</pubDate><description>Tin {SITE}</description></item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{SITE} - Tin mới</title><link>{base}/</link>{items}</channel></rss>"
    )


def atom(base: str, stories: tuple[Story, ...]) -> str:
    entries = "".join(
        f'<entry><title>{s.title}</title><link href="{base}{s.path}"/><id>{base}{s.path}</id>'
        f"<updated>{s.date}T08:30:00Z</updated></entry>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{SITE} - Du lịch</title><id>{base}/</id><updated>2024-10-20T08:30:00Z</updated>"
        f"{entries}</feed>"
    )


def news_sitemap(base: str, stories: tuple[Story, ...]) -> str:
    urls = "".join(
        f"<url><loc>{base}{s.path}</loc><news:news><news:publication>"
        f"<news:name>{SITE}</news:name><news:language>vi</news:language></news:publication>"
        f"<news:publication_date>{s.date}</news:publication_date><news:title>{s.title}"
        "</news:title></news:news></url>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{urls}</urlset>"
    )


def sitemap_index(base: str, children: tuple[str, ...]) -> str:
    items = "".join(f"<sitemap><loc>{base}{c}</loc></sitemap>" for c in children)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'
    )


@dataclass
class Route:
    """What one path answers; ``kind`` selects a misbehaviour (slow, loop, huge)."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    kind: str = ""
    location: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class NewsSite:
    """The site on an ephemeral port of 127.0.0.1; ``routes`` may be edited while it runs."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._fill()

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> NewsSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def publish(self, story: Story) -> None:
        """Serve ``story`` (again, after an edit) at its path."""
        if story is BOAT_RACE or story.path == BOAT_RACE.path:
            page = to_windows_1258(news_page(story, self.base_url, "windows-1258"))
            self.routes[story.path] = Route(page, "text/html")
        else:
            self.routes[story.path] = Route(news_page(story, self.base_url).encode())

    def _fill(self) -> None:
        base = self.base_url
        for story in STORIES:
            self.publish(story)
        xml = "application/xml"
        self.routes |= {
            "/robots.txt": Route(b"User-agent: *\nDisallow: /rieng-tu/\n", "text/plain"),
            "/rss/tin-moi.rss": Route(rss(base, (BRIDGE, TEA)).encode(), "application/rss+xml"),
            "/atom/du-lich.xml": Route(atom(base, (BUCKWHEAT,)).encode(), "application/atom+xml"),
            "/sitemap-news.xml": Route(news_sitemap(base, (BRIDGE, TEA)).encode(), xml),
            "/sitemap-van-hoa.xml": Route(news_sitemap(base, (BOAT_RACE,)).encode(), xml),
            "/sitemap.xml": Route(
                sitemap_index(base, ("/sitemap-news.xml", "/sitemap-van-hoa.xml")).encode(), xml
            ),
            "/rieng-tu/bai-noi-bo.html": Route(news_page(TEA, base).encode()),
            "/cham.html": Route(news_page(TEA, base).encode(), kind="slow"),
            "/vong-lap.html": Route(status=302, location="/vong-lap.html"),
            "/chuyen-huong.html": Route(status=301, location=BRIDGE.path),
            "/qua-lon.html": Route(kind="huge"),
            "/bao-cao.pdf": Route(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
            "/hong-ma.html": Route(
                to_windows_1258(news_page(BOAT_RACE, base)), "text/html; charset=utf-8"
            ),
            "/trang-trong.html": Route(
                b"<html><body><nav><a href='/'>Trang ch\xe1\xbb\xa7</a></nav></body></html>"
            ),
        }


def _handler(site: NewsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.hits[path] += 1
            route = site.routes.get(path)
            if route is None:
                self._answer(404, b"<html><body><h1>404</h1></body></html>", "text/html")
            elif route.kind == "slow":
                time.sleep(SLOW_S)
                self._answer(200, route.body, route.content_type)
            elif route.kind == "huge":
                self._huge()
            elif route.location:
                self.send_response(route.status)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._conditional(route)

        def _conditional(self, route: Route) -> None:
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self._answer(route.status, route.body, route.content_type, {"ETag": etag})

        def _answer(
            self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _huge(self) -> None:
            """More than the size cap, without Content-Length (read until the cap trips)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
            try:
                for _ in range(HUGE_BYTES // len(chunk) + 2):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the fetcher hung up at the cap, as it should
            self.close_connection = True

    return Handler


if __name__ == "__main__":
    with NewsSite() as site:
        print(site.base_url, flush=True)
        threading.Event().wait()
