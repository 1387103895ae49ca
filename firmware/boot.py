# Runs before main.py on a board. Deliberately empty: the reader starts from main.py only.
