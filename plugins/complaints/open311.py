OPEN311_ROUTES: list = []
