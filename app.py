"""optviz: Keras optimizers racing on 2D loss surfaces. ``streamlit run app.py``

The page lives in optviz/page/; one run of it, top to bottom:

    setup.setup()              once per process: warm-up thread, frozen heap, compact chart JSON
    widgets.open_session()     the URL's state into the widgets, once a session
    sidebar.render(lang)       language, lesson, preset, surface, optimizers and their settings
    header.render(lang)        title, what a link got wrong, the lesson's text
    the tabs' row              race | tuning | 3D | rules
    main.live(...)             what a slider moves (a fragment): the sidebar's sliders, the race,
                               then the open tab: tabs/race.py, tuning.py, view3d.py, rules.py

optviz/page/app.py runs the same page from an installed package.
"""

from optviz.page import main

main.run()
