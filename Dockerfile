# kisi-archive daemon in a container. See docs/daemon.md ("Docker").
#   docker build -t kisi-archive .
#   docker run -d -e KISI_CONTACT=mailto:you@example.org -v kisi-archive:/archive --stop-timeout 120 kisi-archive
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY storage ./storage
COPY crawler ./crawler
COPY scheduler ./scheduler
# tzdata: the time zone database for --timezone (slim images may not ship one).
RUN pip install . tzdata && rm -rf /src

RUN useradd --system --uid 10001 --create-home --home-dir /home/kisi --shell /usr/sbin/nologin kisi \
    && mkdir /archive && chown kisi:kisi /archive

ENV KISI_ARCHIVE_DIR=/archive
VOLUME ["/archive"]
WORKDIR /archive
USER kisi

# The daemon (PID 1) handles SIGTERM itself: it lets a running crawl close, then exits 0.
STOPSIGNAL SIGTERM
CMD ["kisi-archive", "daemon", "--every", "6h"]
