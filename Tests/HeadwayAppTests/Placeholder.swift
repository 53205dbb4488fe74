enum _HeadwayAppTestsPlaceholder {}
