from reader.app import run

run()
