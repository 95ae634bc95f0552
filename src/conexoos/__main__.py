from conexoos.framework.cli import main

main()
