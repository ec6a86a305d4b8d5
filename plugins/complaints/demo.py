def load_demo(engine, progress):
    pass
