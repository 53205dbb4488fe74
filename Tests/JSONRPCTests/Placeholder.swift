enum _JSONRPCTestsPlaceholder {}
