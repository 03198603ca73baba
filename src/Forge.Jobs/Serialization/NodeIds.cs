using System.Security.Cryptography;

namespace Forge.Jobs.Serialization;

internal static class NodeIds
{
    public static string CreateDefault()
    {
        var machine = Environment.MachineName.ToLowerInvariant();
        if (machine.Length > 40)
        {
            machine = machine[..40];
        }

        return $"{machine}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";
    }
}
