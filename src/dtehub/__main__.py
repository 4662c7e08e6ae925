from dtehub.cli import main

main()
