FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY micboard ./micboard
COPY dashboard ./dashboard
COPY realtime ./realtime
RUN pip install --no-cache-dir .
COPY . .
RUN SECRET_KEY=build DEBUG=False python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--websocket_timeout", "-1", "micboard.asgi:application"]
