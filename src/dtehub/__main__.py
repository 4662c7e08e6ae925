from dtehub.launcher import main

main()
