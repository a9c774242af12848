# Reads what DhcpScope manages on a Windows DHCP Server as one JSON document (see WindowsState in
# state.ts). The caller puts `$id = '<scope id>'` in front of this file. Each object is reduced to
# strings, numbers and booleans; arrays stay arrays (the TypeScript side also accepts the single element
# that ConvertTo-Json writes for a one-element array, and null for an empty one).
$ErrorActionPreference = 'Stop'
$out = [ordered]@{ scope = $null; options = @(); reservations = @(); classes = @(); policies = @(); optionDefinitions = @(); leaseCount = 0; classUsers = @() }
$scope = Get-DhcpServerv4Scope -ScopeId $id -ErrorAction SilentlyContinue
if ($scope) {
    $out.scope = [ordered]@{
        ScopeId = $scope.ScopeId.IPAddressToString
        Name = $scope.Name
        StartRange = $scope.StartRange.IPAddressToString
        EndRange = $scope.EndRange.IPAddressToString
        SubnetMask = $scope.SubnetMask.IPAddressToString
        LeaseSeconds = [int]$scope.LeaseDuration.TotalSeconds
        State = "$($scope.State)"
        ActivatePolicies = [bool]$scope.ActivatePolicies
        Description = $scope.Description
    }
    $out.options = @(Get-DhcpServerv4OptionValue -ScopeId $id | ForEach-Object {
        [ordered]@{ OptionId = [int]$_.OptionId; Value = @($_.Value); PolicyName = $null }
    })
    $out.policies = @(Get-DhcpServerv4Policy -ScopeId $id | ForEach-Object {
        [ordered]@{
            Name = $_.Name
            ProcessingOrder = [int]$_.ProcessingOrder
            Enabled = [bool]$_.Enabled
            Condition = "$($_.Condition)"
            VendorClass = @($_.VendorClass)
            UserClass = @($_.UserClass)
            MacAddress = @($_.MacAddress)
            ClientId = @($_.ClientId)
            RelayAgent = @($_.RelayAgent)
            CircuitId = @($_.CircuitId)
            RemoteId = @($_.RemoteId)
            SubscriberId = @($_.SubscriberId)
            Fqdn = @($_.Fqdn)
        }
    })
    foreach ($policy in $out.policies) {
        $out.options += @(Get-DhcpServerv4OptionValue -ScopeId $id -PolicyName $policy.Name | ForEach-Object {
            [ordered]@{ OptionId = [int]$_.OptionId; Value = @($_.Value); PolicyName = $policy.Name }
        })
    }
    $out.reservations = @(Get-DhcpServerv4Reservation -ScopeId $id | ForEach-Object {
        [ordered]@{ IPAddress = $_.IPAddress.IPAddressToString; ClientId = $_.ClientId; Name = $_.Name }
    })
    # Active leases (without -AllLeases): what removing the scope with -Force would drop.
    $out.leaseCount = @(Get-DhcpServerv4Lease -ScopeId $id).Count
}
# Data is the property the documentation lists (DhcpServerv4Class); AsciiData is the one Microsoft's own
# DhcpServerDsc compares with the value it passed to -Data. Both go out; the reader prefers AsciiData.
$out.classes = @(Get-DhcpServerv4Class | ForEach-Object {
    [ordered]@{ Name = $_.Name; Type = "$($_.Type)"; Data = $_.Data; AsciiData = $_.AsciiData }
})
$out.optionDefinitions = @(Get-DhcpServerv4OptionDefinition | ForEach-Object { [int]$_.OptionId })
# The server's policies and those of the other scopes, with the classes their criteria name: a class is
# server-wide, and one this resource added stays while another scope's policy uses it.
$out.classUsers = @(@(Get-DhcpServerv4Policy) + @(Get-DhcpServerv4Scope | Where-Object { $_.ScopeId.IPAddressToString -ne $id } | ForEach-Object {
    Get-DhcpServerv4Policy -ScopeId $_.ScopeId
}) | ForEach-Object {
    [ordered]@{ ScopeId = "$($_.ScopeId)"; Name = $_.Name; Classes = @(@($_.VendorClass) + @($_.UserClass)) }
})
$out | ConvertTo-Json -Depth 6 -Compress
