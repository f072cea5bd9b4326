from radiant_registry.cli import main

main()
