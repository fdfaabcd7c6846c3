from lstm_forecast.cli.base import main

main()
