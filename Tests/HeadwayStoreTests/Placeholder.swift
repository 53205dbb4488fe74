enum _HeadwayStoreTestsPlaceholder {}
