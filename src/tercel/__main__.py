from tercel.app.cli import main

raise SystemExit(main())
