"""The page's script inside the package (``optviz serve``; ``streamlit run app.py`` in a checkout
runs the same page). Streamlit serves the ``static/`` folder beside it: see setup.plotly_js_url."""

from optviz.page import main

main.run()
