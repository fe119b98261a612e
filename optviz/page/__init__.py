"""The Streamlit page (imported by the page's script only: ``import optviz`` never imports it).

    app.py (and optviz/page/app.py)   the script: main.run()
    main.py        the page top to bottom: set-up, sidebar, header, tabs' row, the live part
    setup.py       what the page asks of the server process, once; plotly.js for the charts
    components.py  the page's own elements; their JavaScript and CSS in frontend/
    caches.py      races, sweeps and figures behind Streamlit's caches
    widgets.py     widgets <-> PageState, the choice widgets' labels, the callbacks
    sidebar.py, header.py, tabs/   what the page shows, each part a render() function
    charts.py      a chart at its reported width, or the page's own race chart element
    context.py     RunContext: what one run hands each tab
    markdown_text.py  a link's or a visitor's text, shown in Markdown as it is

No module here is named like a package on PyPI: ``streamlit run optviz/page/app.py`` puts
this folder first on sys.path.
"""
