FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The locked, hash-checked dependencies first (a layer that changes only with requirements.lock),
# then the app itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY ordersync ordersync
COPY connections connections
COPY sandbox sandbox
COPY templates templates
COPY locale locale
COPY manage.py gunicorn.conf.py ./
# Bytecode compiled once at build: the code runs from /app, where nothing may write .pyc at run time,
# and compiling on every cron-run command would cost seconds of CPU each time (bench/startup.py).
RUN pip install --no-cache-dir --no-deps . \
    && DEBUG=1 python manage.py collectstatic --noinput \
    && python -m compileall -q /app \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ordersync \
    && mkdir -p /app/var && chown ordersync /app/var
USER ordersync
EXPOSE 8000
CMD ["gunicorn", "ordersync.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
