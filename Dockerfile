# optviz for a school server: docker build -t optviz . && docker run -p 8501:8501 optviz
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_PORT=8501

RUN useradd --create-home --uid 10001 optviz
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=optviz:optviz app.py ./
COPY --chown=optviz:optviz optviz ./optviz
COPY --chown=optviz:optviz .streamlit ./.streamlit
# The page copies plotly's own plotly.js here on its first run (the race chart loads it from there;
# optviz/page/setup.py plotly_js_url).
RUN mkdir static && chown optviz:optviz static

USER 10001
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('STREAMLIT_SERVER_PORT', '8501') + '/_stcore/health', timeout=4)"]

# Streamlit reads its port from $STREAMLIT_SERVER_PORT (default 8501 above):
#   docker run -e STREAMLIT_SERVER_PORT=9000 -p 9000:9000 optviz
# optviz.page.replica warms the process up (every surface compiled) and then runs `streamlit run`
# in it: the health check answers only once the container is warm, so a balancer in front
# (deploy/) gives it students only then. OPTVIZ_WARM_UP=0 skips the warm-up.
CMD ["python", "-m", "optviz.page.replica", "run", "app.py", "--server.address=0.0.0.0"]
