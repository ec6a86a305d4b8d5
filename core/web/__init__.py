"""The pages people use: server-rendered HTML (Jinja2 through Litestar), in Korean and English,
served with civic's own CSS and scripts, every form working without JavaScript.

Core holds the layout, translations, static files, CSRF and session handling, the home and audit
pages; each plugin keeps its pages in ``web.py`` and its templates in ``templates/<plugin>/``."""
