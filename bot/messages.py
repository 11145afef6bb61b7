"""Every Vietnamese user-facing string of the bot and the command list; nothing else.

Strings are plain text; ``bot.formatting`` escapes them before they go out as HTML.
``{placeholders}`` are filled with ``str.format``.
"""

from __future__ import annotations

# (command, description): feeds both setMyCommands and /help.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Giới thiệu bot"),
    ("help", "Cách đặt câu hỏi và ví dụ"),
    ("ask", "Hỏi trong nhóm: /ask câu hỏi"),
)
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("reindex", "Cập nhật chỉ mục từ thư mục bài báo"),
    ("stats", "Thống kê chỉ mục và số câu hỏi"),
    ("add", "Thêm bài từ đường link (bài, RSS, sitemap): /add URL"),
    ("remove", "Xoá một bài: /remove URL hoặc mã bài"),
    ("sync", "Lấy bài mới từ FEEDS và SITEMAPS ngay"),
)
EXAMPLE_QUESTIONS: tuple[str, ...] = (
    "Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?",
    "Thu nhập bình quân đầu người của Sông Công năm 2020 dự ước bao nhiêu?",
    "Bí thư Tỉnh ủy Thái Nguyên đề nghị Phổ Yên tập trung vào những việc gì?",
)

START = (
    "Xin chào! Tôi trả lời câu hỏi tiếng Việt bằng cách trích nguyên văn những đoạn tin "
    "tức phù hợp nhất, kèm tiêu đề, ngày, nguồn và số thứ tự đoạn."
)
HELP_INTRO = (
    "Hãy gửi câu hỏi bằng tiếng Việt. Trong nhóm, hãy nhắc tên tôi (@{username}), "
    "trả lời tin nhắn của tôi hoặc dùng /ask câu hỏi."
)
HELP_COMMANDS = "Các lệnh:"
HELP_ADMIN_COMMANDS = "Dành cho quản trị viên:"
HELP_EXAMPLES = "Ví dụ:"

NOT_FOUND = (
    "Không tìm thấy đoạn tin nào trả lời câu hỏi này. Hãy thử diễn đạt lại hoặc dùng "
    "từ khoá cụ thể hơn (địa danh, con số, năm). Gõ có dấu giúp tìm chính xác hơn, "
    "nhưng không bắt buộc."
)
EMPTY_QUERY = "Bạn muốn hỏi gì? Hãy gửi câu hỏi bằng tiếng Việt, ví dụ: {example}"
ASK_USAGE = "Cách dùng: /ask câu hỏi của bạn, ví dụ: /ask {example}"
QUESTION_TRUNCATED = "Câu hỏi dài quá nên tôi chỉ dùng {max_chars} ký tự đầu."
NON_TEXT_HINT = (
    "Tôi chỉ đọc được chữ: tin nhắn chữ hoặc chú thích của ảnh, video, tệp. "
    "Hãy gõ câu hỏi của bạn."
)
UNKNOWN_COMMAND = "Tôi không hiểu lệnh này. Gõ /help để xem hướng dẫn."
RATE_LIMITED = "Bạn hỏi hơi nhanh (tối đa {limit} câu mỗi phút). Vui lòng đợi một chút."
NOT_ALLOWED = "Xin lỗi, bot này chỉ phục vụ những cuộc trò chuyện được cho phép."
INTERNAL_ERROR = "Xin lỗi, đã có lỗi xảy ra. Vui lòng thử lại sau."
SEARCH_UNAVAILABLE = "Xin lỗi, tạm thời không tìm được, thử lại sau."

# One quoted passage: title line, then date · source · paragraph.
PARAGRAPH = "đoạn {paragraph}"
PARAGRAPH_PART = "đoạn {paragraph}, phần {part}/{parts}"
SOURCE_LINK = "nguồn"

BUTTON_MORE = "Xem thêm"
BUTTON_NEXT = "Đoạn kế tiếp"
BUTTON_NEXT_NUMBERED = "Đoạn kế tiếp ({number})"
BUTTON_UP = "👍"
BUTTON_DOWN = "👎"
VOTE_COUNTED = "Đã ghi nhận đánh giá của bạn. Cảm ơn!"
VOTE_UNCHANGED = "Bạn đã đánh giá như vậy rồi."
STALE_BUTTON = "Kết quả này đã hết hạn. Vui lòng hỏi lại."
ALREADY_SHOWN = "Đã hiển thị ở trên."
NO_NEXT_PARAGRAPH = "Đây là đoạn cuối của bài."

NOT_ADMIN = "Xin lỗi, chỉ quản trị viên mới dùng được lệnh này."
REINDEX_STARTED = "Đang cập nhật chỉ mục…"
REINDEX_READING = "Đang cập nhật chỉ mục: đã đọc {done}/{total} tệp…"
REINDEX_EMBEDDING = "Đang cập nhật chỉ mục: đã xử lý {done}/{total} đoạn…"
REINDEX_WRITING = "Đang ghi chỉ mục…"
REINDEX_BUSY = "Chỉ mục đang được cập nhật. Vui lòng đợi lần cập nhật này xong."
REINDEX_DONE = (
    "Đã cập nhật chỉ mục: {articles} bài, {chunks} đoạn.\n"
    "Thêm {added}, sửa {changed}, xoá {removed} đoạn.\n"
    "Bỏ qua {skipped} tệp hoặc dòng lỗi.\n"
    "Thời gian: {seconds} giây."
)
REINDEX_FAILED = "Cập nhật chỉ mục thất bại: {reason}\nChỉ mục cũ vẫn đang được dùng."
REINDEX_FAILED_GENERIC = "Cập nhật chỉ mục thất bại do lỗi nội bộ. Chỉ mục cũ vẫn đang được dùng."
REINDEX_STORAGE_FAILED = (
    "Cập nhật chỉ mục thất bại: không ghi được vào {path} ({cause}).\n"
    "Chỉ mục cũ vẫn đang được dùng."
)
REINDEX_INTERRUPTED = (
    "Cập nhật chỉ mục đã bị dừng vì bot đang tắt. Chỉ mục cũ vẫn được giữ nguyên; "
    "hãy chạy lại /reindex khi bot hoạt động trở lại."
)
# Causes of a failed write, by errno (bot/command_texts.py: format_storage_failure).
STORAGE_READ_ONLY = "ổ đĩa chỉ đọc"
STORAGE_FULL = "hết dung lượng ổ đĩa"
STORAGE_NO_PERMISSION = "không có quyền ghi"
STORAGE_NOT_A_DIRECTORY = "đường dẫn không phải thư mục"
STORAGE_OTHER = "lỗi ổ đĩa: {error}"
STATS = (
    "Thống kê:\n"
    "• Bài báo: {articles}\n"
    "• Đoạn: {chunks}\n"
    "• Mô hình: {model}\n"
    "• Chỉ mục tạo lúc {built_at} ({age} trước)\n"
    "• Câu hỏi đã trả lời từ khi khởi động: {questions}\n"
    "• Câu hỏi hôm nay: {today}; {days} ngày qua: {period}\n"
    "• Trả lời được: {answered} ({answered_pct}%); không tìm thấy: {not_found} "
    "({not_found_pct}%)\n"
    "• Đánh giá: 👍 {up} · 👎 {down}"
)
STATS_GAPS = "Câu hỏi chưa trả lời được, hỏi nhiều nhất trong {days} ngày qua:"
STATS_GAP = "{number}. {question} ({asked} lần)"
STATS_NO_GAPS = "Không có câu hỏi nào chưa trả lời được trong {days} ngày qua."

INLINE_EMPTY_TITLE = "Gõ câu hỏi sau tên bot"
INLINE_EMPTY = "Gõ câu hỏi bằng tiếng Việt sau tên bot, ví dụ: {example}"
INLINE_NOT_FOUND_TITLE = "Không tìm thấy"
AGE_MINUTES = "{count} phút"
AGE_HOURS = "{count} giờ"
AGE_DAYS = "{count} ngày"

TERMINAL_GREETING = "Hỏi đáp tin tức: gõ câu hỏi rồi Enter; gõ exit hoặc Ctrl+D để thoát."
TERMINAL_PROMPT = "Câu hỏi: "
TERMINAL_EXIT_WORDS: frozenset[str] = frozenset({"exit", "quit", "thoát", "thoat"})

# Bringing in articles (admins): links, /add, files, forwarded posts, /remove, /sync.
ADD_USAGE = "Cách dùng: /add URL — đường link bài báo, RSS/Atom hoặc sitemap (có thể nhiều link)."
ADDING = "Đang tải {count} đường link…"
ADDED = "Đã thêm: {title} ({paragraphs} đoạn)"
UPDATED = "Đã cập nhật: {title} ({paragraphs} đoạn)"
NOTHING_NEW = "Không có gì mới: {count} bài đã có và không thay đổi."
NOT_ADDED = "Không thêm được {url}: {reason}"
LINKS_ADMIN_ONLY = (
    "Chỉ quản trị viên mới thêm được bài báo bằng đường link. Hãy gửi câu hỏi bằng chữ."
)
UPLOAD_ADMIN_ONLY = "Chỉ quản trị viên mới gửi được tệp bài báo. Hãy gửi câu hỏi bằng chữ."
UPLOAD_WRONG_TYPE = "Tôi chỉ nhận tệp .md, .txt, .html hoặc .jsonl."
UPLOAD_TOO_LARGE = "Tệp lớn quá ({size} MB): bot chỉ tải được tệp tối đa {limit} MB."
UPLOAD_SAVED = "Đã lưu {name}: thêm {count} bài."
UPLOAD_ARTICLE = "• {title} ({paragraphs} đoạn)"
UPLOAD_SKIPPED = "Bỏ qua:"
UPLOAD_FAILED = "Không lưu được {name}: {reason}"
FORWARD_NOT_CHANNEL = "Chỉ thêm được bài chuyển tiếp từ một kênh tin tức."
FORWARD_EMPTY = "Bài chuyển tiếp không có chữ nên không thêm được."
REMOVE_USAGE = "Cách dùng: /remove URL hoặc mã bài (ví dụ: web/baochinhphu.vn/ten-bai)."
REMOVED = "Đã xoá: {title}"
REMOVE_FAILED = "Không xoá được: {reason}"
SYNC_NOT_CONFIGURED = "Chưa cấu hình FEEDS hoặc SITEMAPS nên không có gì để lấy."
SYNC_STARTED = "Đang lấy bài mới từ {count} nguồn…"
SYNC_DONE = (
    "Đã lấy xong trong {seconds} giây: {new} bài mới, {changed} bài sửa, "
    "{unchanged} bài không đổi, {failed} lỗi."
)
INDEX_NOT_UPDATED = "Đã lưu bài nhưng chưa cập nhật được chỉ mục: {reason}"
# Why a page could not be fetched: (words in the fetcher's reason, what the admin reads).
FETCH_REASONS: tuple[tuple[str, str], ...] = (
    ("HTTP 404", "trang không tồn tại (404)"),
    ("HTTP", "máy chủ báo lỗi"),
    ("timed out", "quá thời gian chờ"),
    ("redirects", "chuyển hướng quá nhiều lần"),
    ("larger than", "trang quá lớn"),
    ("not an HTML page", "không phải trang HTML, RSS hay sitemap"),
    ("charset", "sai bảng mã ký tự"),
    ("no article text", "không tìm thấy nội dung bài báo"),
    ("robots.txt", "trang web không cho phép tải (robots.txt)"),
    ("private", "địa chỉ nội bộ bị chặn (ALLOW_PRIVATE_URLS)"),
    ("only http", "chỉ nhận đường link http:// hoặc https://"),
    ("host name not found", "không tìm thấy tên miền"),
    ("network error", "lỗi mạng"),
)
