from flightdelay.cli import main

main()
