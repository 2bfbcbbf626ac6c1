FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ordersync ordersync
COPY connections connections
COPY sandbox sandbox
COPY templates templates
COPY locale locale
COPY manage.py gunicorn.conf.py ./
RUN pip install --no-cache-dir . && DEBUG=1 python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "ordersync.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
