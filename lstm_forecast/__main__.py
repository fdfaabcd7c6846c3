from lstm_forecast.cli import main

main()
