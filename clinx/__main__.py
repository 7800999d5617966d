from clinx.cli import main

raise SystemExit(main())
