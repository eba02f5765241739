FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY micboard ./micboard
COPY dashboard ./dashboard
COPY realtime ./realtime
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
RUN SECRET_KEY=build DEBUG=False python manage.py collectstatic --noinput
# Run unprivileged; only uploaded media (performer photos) is written at run time.
RUN useradd --system --no-create-home micboard \
    && mkdir -p /app/media /stage && chown micboard /app/media /stage
USER micboard
EXPOSE 8000
# uvicorn's web processes (read by uvicorn): one per core the container gets.
ENV WEB_CONCURRENCY=2
# uvicorn serves the walls with less CPU per frame than daphne (docs/performance.md);
# daphne stays installed for `manage.py runserver` and the browser tests.
CMD ["uvicorn", "micboard.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--loop", "uvloop", "--ws", "websockets", "--ws-max-size", "4096", "--lifespan", "off"]
