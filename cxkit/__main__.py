from cxkit.cli import main

raise SystemExit(main())
