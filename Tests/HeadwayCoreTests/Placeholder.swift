enum _HeadwayCoreTestsPlaceholder {}
