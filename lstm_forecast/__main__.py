from lstm_forecast.cli import app

app(prog_name="lstm-forecast")
