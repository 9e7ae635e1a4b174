from embedkit.cli import main

raise SystemExit(main())
